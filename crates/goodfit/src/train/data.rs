//! Turning the configured files into tokenised, labelled splits.

use std::path::Path;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::data::augment::eda_copies;
use crate::data::{
    inspect, read_table, stratified_split, ColumnSpec, DataSummary, Dataset, Inputs, LabelMap,
    ReadOptions,
};
use crate::error::{Error, Result};
use crate::model::{Example, Preprocessor};

use super::config::TrainConfig;
use super::observer::Observer;

/// Preprocessed examples with their classes.
#[derive(Debug, Clone, Default)]
pub struct Examples {
    /// Each example as the model reads it.
    pub encoded: Vec<Example>,
    /// Class index per example.
    pub targets: Vec<usize>,
}

impl Examples {
    /// The number of examples.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The examples of `rows`, in that order.
    pub(crate) fn select(&self, rows: &[usize]) -> Examples {
        Examples {
            encoded: rows.iter().map(|&r| self.encoded[r].clone()).collect(),
            targets: rows.iter().map(|&r| self.targets[r]).collect(),
        }
    }
}

/// The training run's data.
pub struct Prepared {
    /// The classes, from the training file.
    pub labels: LabelMap,
    /// Examples to train on: the training rows, then any augmented copies of them.
    pub train: Examples,
    /// How many of `train` are the training rows themselves (the rest are augmented).
    pub train_rows: usize,
    /// Examples to validate on.
    pub val: Examples,
    /// Examples to test on, when a test file was given.
    pub test: Option<Examples>,
    /// What `goodfit inspect` says of the training file (and its relation to the test file).
    pub summary: DataSummary,
    /// Where each example came from (augmented copies aside).
    pub origins: Origins,
    /// Per training row, whether fits leave it out (`--drop-flagged`); empty when none is.
    pub dropped: Vec<bool>,
}

impl Prepared {
    /// The training rows fits train on, when some are left out (`--drop-flagged`).
    pub fn kept_train_rows(&self) -> Option<Vec<usize>> {
        (!self.dropped.is_empty()).then(|| {
            (0..self.train.len())
                .filter(|&r| !self.dropped.get(r).copied().unwrap_or(false))
                .collect()
        })
    }
}

/// A row's place in its data file and what it holds, for findings that name rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// Its line in the file (a Parquet file's row number), as `goodfit inspect` numbers rows.
    pub line: u64,
    /// Its text, or its picture's path.
    pub input: String,
}

/// The origins of the training, validation and test examples, in their order.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// The training split's rows (not their augmented copies).
    pub train: Vec<Origin>,
    /// The validation split's rows (from the training file unless a validation file is given).
    pub val: Vec<Origin>,
    /// The test file's rows.
    pub test: Vec<Origin>,
}

/// The origin of each of `rows` of `dataset`, whose inputs are `texts`.
fn origins(dataset: &Dataset, texts: &[String], rows: &[usize]) -> Vec<Origin> {
    rows.iter()
        .map(|&r| Origin {
            line: dataset.lines[r],
            input: texts[r].clone(),
        })
        .collect()
}

/// Reads, checks, splits and tokenises the data of `config`.
pub fn prepare(
    config: &TrainConfig,
    preprocessor: &Preprocessor,
    observer: &dyn Observer,
) -> Result<Prepared> {
    let (texts, dataset) = read_texts(&config.train, config, observer)?;
    let labels = dataset.label_map();
    if labels.len() < 2 {
        return Err(Error::Invalid(format!(
            "{}: the training data has only one class ('{}'); a classifier needs at least two",
            config.train.display(),
            labels
                .labels()
                .first()
                .map(|l| l.as_text())
                .unwrap_or_default()
        )));
    }
    let targets = dataset.class_indices(&labels)?;
    let all = Examples {
        encoded: preprocessor.examples(&texts, &config.train, config.max_len)?,
        targets,
    };
    let (train_rows, val, val_origins) = match &config.val {
        Some(path) => {
            let (val_texts, val_data) = read_texts(path, config, observer)?;
            let val = Examples {
                targets: val_data.class_indices(&labels)?,
                encoded: preprocessor.examples(&val_texts, path, config.max_len)?,
            };
            let every: Vec<usize> = (0..val_texts.len()).collect();
            let val_origins = origins(&val_data, &val_texts, &every);
            ((0..all.len()).collect::<Vec<usize>>(), val, val_origins)
        }
        None => {
            let names: Vec<String> = labels.names();
            let split = stratified_split(
                &all.targets,
                &names,
                config.val_fraction,
                config.split_seed.unwrap_or(config.seed),
            )?;
            for note in &split.notes {
                observer.message(note);
            }
            observer.message(&format!(
                "validation: {} of {} training rows (stratified, --val-fraction {})",
                split.validation.len(),
                all.len(),
                config.val_fraction
            ));
            let val = all.select(&split.validation);
            let val_origins = origins(&dataset, &texts, &split.validation);
            (split.train, val, val_origins)
        }
    };
    let train_origins = origins(&dataset, &texts, &train_rows);
    let dropped = dropped_rows(&train_origins, config, observer);
    let mut train = all.select(&train_rows);
    let original_rows = train.len();
    if config.eda_copies > 0 {
        let originals: Vec<&str> = train_rows.iter().map(|&r| texts[r].as_str()).collect();
        let added = augment_texts(&mut train, &originals, config, preprocessor)?;
        observer.message(&format!(
            "EDA: {added} augmented texts (word swaps and deletions, α {}) join the {} training rows",
            config.eda_alpha,
            originals.len()
        ));
    }
    let (test, test_data, test_origins) = match &config.test {
        Some(path) => {
            let (test_texts, test_data) = read_texts(path, config, observer)?;
            let examples = Examples {
                targets: test_data.class_indices(&labels)?,
                encoded: preprocessor.examples(&test_texts, path, config.max_len)?,
            };
            let every: Vec<usize> = (0..test_texts.len()).collect();
            let test_origins = origins(&test_data, &test_texts, &every);
            (Some(examples), Some(test_data), test_origins)
        }
        None => (None, None, Vec::new()),
    };
    let summary = inspect(&dataset, test_data.as_ref(), preprocessor.tokenizer())?;
    Ok(Prepared {
        labels,
        train,
        train_rows: original_rows,
        val,
        test,
        summary,
        origins: Origins {
            train: train_origins,
            val: val_origins,
            test: test_origins,
        },
        dropped,
    })
}

/// Per training row, whether it is on `config.drop_lines` (the audit's flagged rows),
/// saying how many are; empty when none is dropped. The rows stay in the session (so that
/// cross-validation folds drawn over every row stay valid); fits leave them out.
fn dropped_rows(rows: &[Origin], config: &TrainConfig, observer: &dyn Observer) -> Vec<bool> {
    if config.drop_lines.is_empty() {
        return Vec::new();
    }
    let drop: std::collections::HashSet<u64> = config.drop_lines.iter().copied().collect();
    let dropped: Vec<bool> = rows.iter().map(|o| drop.contains(&o.line)).collect();
    observer.message(&format!(
        "leaving out {} training rows the audit flags as probably mislabelled (--drop-flagged); validation keeps its rows",
        dropped.iter().filter(|&&d| d).count()
    ));
    dropped
}

/// Appends `config.eda_copies` augmented copies of each of `texts` (the training rows of
/// `train`, in order) to `train`, with their labels; returns how many were added.
fn augment_texts(
    train: &mut Examples,
    texts: &[&str],
    config: &TrainConfig,
    preprocessor: &Preprocessor,
) -> Result<usize> {
    let mut augmented = Vec::new();
    let mut targets = Vec::new();
    for (row, text) in texts.iter().enumerate() {
        let seed = config
            .seed
            .wrapping_mul(0x9E37_79B9)
            .wrapping_add(row as u64);
        augmented.extend(eda_copies(text, config.eda_copies, config.eda_alpha, seed));
        targets.extend(std::iter::repeat_n(train.targets[row], config.eda_copies));
    }
    train
        .encoded
        .extend(preprocessor.texts(&augmented, config.max_len)?);
    train.targets.extend(targets);
    Ok(augmented.len())
}

/// The texts of a labelled file, with empty texts skipped (or, under `strict`, refused).
pub(crate) fn read_texts(
    path: &Path,
    config: &TrainConfig,
    observer: &dyn Observer,
) -> Result<(Vec<String>, Dataset)> {
    let table = if path.is_dir() {
        crate::data::image_folder::image_folder_table(path, &config.text_col, &config.label_col)?
    } else {
        read_table(path, &ReadOptions::default())?
    };
    table.column(&config.text_col)?;
    let columns = ColumnSpec {
        text: config.text_col.clone(),
        label: config.label_col.clone(),
        features: None,
    };
    let mut dataset = Dataset::from_table(&table, &columns)?;
    let Inputs::Text(texts) = &dataset.inputs else {
        unreachable!("the text column exists, so the inputs are texts");
    };
    let empty: Vec<usize> = (0..texts.len())
        .filter(|&i| texts[i].trim().is_empty())
        .collect();
    if let Some(&first) = empty.first() {
        if config.strict {
            return Err(Error::input(
                dataset.position(first).with_field(&config.text_col),
                "the text is empty (--strict)",
            ));
        }
        observer.message(&format!(
            "{}: skipped {} rows with empty text (first at {})",
            path.display(),
            empty.len(),
            dataset.position(first)
        ));
        let keep: Vec<usize> = (0..texts.len())
            .filter(|&i| !texts[i].trim().is_empty())
            .collect();
        dataset = Dataset {
            inputs: Inputs::Text(keep.iter().map(|&i| texts[i].clone()).collect()),
            labels: keep.iter().map(|&i| dataset.labels[i].clone()).collect(),
            lines: keep.iter().map(|&i| dataset.lines[i]).collect(),
            ..dataset.clone()
        };
    }
    let Inputs::Text(texts) = &dataset.inputs else {
        unreachable!()
    };
    if texts.is_empty() {
        return Err(Error::input(
            crate::Position::file(path),
            "no rows with text",
        ));
    }
    Ok((texts.clone(), dataset))
}

/// A fixed, seeded sample of at most `size` of `n` rows (sorted), for training metrics.
pub fn fixed_sample(n: usize, size: usize, seed: u64) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..n).collect();
    if n > size {
        rows.shuffle(&mut ChaCha8Rng::seed_from_u64(seed.wrapping_add(7)));
        rows.truncate(size);
        rows.sort_unstable();
    }
    rows
}
