//! `goodfit inspect`: what a dataset looks like before any training, and what is wrong with it.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;
use tokenizers::Tokenizer;

use crate::error::Result;

use super::dataset::{join_labels, Dataset, Inputs};
use super::duplicates::{find_duplicates, find_leakage, DuplicateReport, LeakageReport};
use super::image_stats::{image_stats, ImageStats};
use super::label::{Label, LabelMap};
use super::lengths::{char_lengths, length_stats, token_lengths, LengthStats};

/// A class with fewer rows than this is too small to learn or evaluate reliably.
pub const SMALL_CLASS: usize = 10;
/// An imbalance ratio (largest / smallest class) above this calls for a remedy.
pub const HIGH_IMBALANCE: f64 = 10.0;

/// One class's size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassCount {
    /// The label.
    pub label: Label,
    /// Its rows.
    pub count: usize,
    /// Its share of all rows.
    pub share: f64,
}

/// The test file, as far as it matters for the training file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestSummary {
    /// The test file.
    pub file: PathBuf,
    /// Its rows.
    pub rows: usize,
    /// Its classes, in the training file's order, then any it alone has.
    pub classes: Vec<ClassCount>,
    /// Labels in the test file that the training file never has.
    pub unseen_labels: Vec<Label>,
    /// Test rows that are copies of training rows.
    pub leakage: LeakageReport,
}

/// Everything `goodfit inspect` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSummary {
    /// The file inspected.
    pub file: PathBuf,
    /// Its rows.
    pub rows: usize,
    /// `text` or `tabular`.
    pub kind: &'static str,
    /// The feature columns, for tabular data.
    pub features: Option<Vec<String>>,
    /// Classes in label order.
    pub classes: Vec<ClassCount>,
    /// Largest class over smallest class.
    pub imbalance_ratio: f64,
    /// Text lengths, for text data.
    pub lengths: Option<LengthStats>,
    /// Texts that are empty or only whitespace.
    pub empty_texts: usize,
    /// Exact duplicates.
    pub duplicates: DuplicateReport,
    /// Pictures: sizes, channels, unreadable files, duplicates and leakage (image data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<ImageStats>,
    /// The test file, when one was given.
    pub test: Option<TestSummary>,
    /// Problems worth acting on, in plain words.
    pub warnings: Vec<String>,
}

/// Class sizes of `labels`, in `map`'s order.
fn class_counts(labels: &[Label], map: &LabelMap) -> Vec<ClassCount> {
    let mut counts = vec![0usize; map.len()];
    for label in labels {
        if let Some(i) = map.index_of(label) {
            counts[i] += 1;
        }
    }
    map.labels()
        .iter()
        .zip(counts)
        .map(|(label, count)| ClassCount {
            label: label.clone(),
            count,
            share: count as f64 / labels.len().max(1) as f64,
        })
        .collect()
}

/// Inspects `data` (and, when given, how `test` relates to it). With a tokenizer, text
/// lengths are counted in its tokens; otherwise in characters.
pub fn inspect(
    data: &Dataset,
    test: Option<&Dataset>,
    tokenizer: Option<&Tokenizer>,
) -> Result<DataSummary> {
    let map = data.label_map();
    let classes = class_counts(&data.labels, &map);
    let largest = classes.iter().map(|c| c.count).max().unwrap_or(0);
    let smallest = classes.iter().map(|c| c.count).min().unwrap_or(0);
    let imbalance_ratio = largest as f64 / smallest.max(1) as f64;
    let mut warnings = Vec::new();

    if classes.len() < 2 {
        warnings.push(format!(
            "only one class ({}): a classifier needs at least two",
            join_labels(map.labels())
        ));
    }
    for class in classes.iter().filter(|c| c.count < SMALL_CLASS) {
        warnings.push(format!(
            "class '{}' has only {} rows (fewer than {SMALL_CLASS}): too few to learn it or to measure it reliably",
            class.label, class.count
        ));
    }
    if imbalance_ratio > HIGH_IMBALANCE {
        warnings.push(format!(
            "imbalance ratio {imbalance_ratio:.1} (largest class / smallest) is over {HIGH_IMBALANCE}: expect the model to favour the majority unless a remedy is used"
        ));
    }

    let pictures = image_paths(data);
    let (kind, features, lengths, empty_texts) = match &data.inputs {
        Inputs::Text(_) if pictures.is_some() => ("image", None, None, 0),
        Inputs::Text(texts) => {
            let lengths = match tokenizer {
                Some(tokenizer) => length_stats(&token_lengths(tokenizer, texts)?, "tokens"),
                None => length_stats(&char_lengths(texts), "characters"),
            };
            let empty: Vec<usize> = (0..texts.len())
                .filter(|&i| texts[i].trim().is_empty())
                .collect();
            if !empty.is_empty() {
                let lines: Vec<String> = empty
                    .iter()
                    .take(5)
                    .map(|&i| data.lines[i].to_string())
                    .collect();
                warnings.push(format!(
                    "{} empty texts (lines {}{})",
                    empty.len(),
                    lines.join(", "),
                    if empty.len() > 5 { ", …" } else { "" }
                ));
            }
            if let Some(over) = lengths.over.first().filter(|o| o.share > 0.1) {
                warnings.push(format!(
                    "{:.0}% of texts are longer than {} tokens: raise --max-len or accept truncation",
                    over.share * 100.0,
                    over.limit
                ));
            }
            ("text", None, Some(lengths), empty.len())
        }
        Inputs::Features { names, .. } => ("tabular", Some(names.clone()), None, 0),
    };

    // Pictures are compared by their files (below), not by their paths.
    let duplicates = if pictures.is_some() {
        DuplicateReport::default()
    } else {
        find_duplicates(data)
    };
    if duplicates.groups > 0 {
        warnings.push(format!(
            "{} duplicate rows in {} groups{}",
            duplicates.extra_rows,
            duplicates.groups,
            if duplicates.conflicting_groups > 0 {
                format!(
                    " ({} groups with conflicting labels)",
                    duplicates.conflicting_groups
                )
            } else {
                String::new()
            }
        ));
    }

    let images = pictures.map(|paths| {
        let test_paths = test.and_then(image_paths);
        let stats = image_stats(&paths, &data.labels, test_paths.as_deref());
        image_warnings(&stats, &mut warnings);
        stats
    });
    let by_files = images.is_some();
    let test = test.map(|test| summarise_test(data, test, &map, by_files, &mut warnings));
    Ok(DataSummary {
        file: data.path.clone(),
        rows: data.len(),
        kind,
        features,
        classes,
        imbalance_ratio,
        lengths,
        empty_texts,
        duplicates,
        images,
        test,
        warnings,
    })
}

/// The picture files of `data`, when its input column holds image paths (every value ends
/// in .png, .jpg or .jpeg), resolved as training resolves them: relative to the data
/// file's folder, or to the image folder itself.
fn image_paths(data: &Dataset) -> Option<Vec<std::path::PathBuf>> {
    let Inputs::Text(values) = &data.inputs else {
        return None;
    };
    let is_picture = |v: &String| {
        let lower = v.to_lowercase();
        [".png", ".jpg", ".jpeg"].iter().any(|e| lower.ends_with(e))
    };
    if values.is_empty() || !values.iter().all(is_picture) {
        return None;
    }
    let base = if data.path.is_dir() {
        data.path.as_path()
    } else {
        data.path.parent().unwrap_or(std::path::Path::new("."))
    };
    Some(values.iter().map(|v| base.join(v)).collect())
}

/// Warnings for unreadable pictures, duplicates and leakage.
fn image_warnings(stats: &ImageStats, warnings: &mut Vec<String>) {
    if let Some(first) = stats.unreadable.first() {
        warnings.push(format!(
            "{} pictures cannot be read (first: row {}, {}: {})",
            stats.unreadable.len(),
            first.row,
            first.path.display(),
            first.why
        ));
    }
    for (groups, what) in [
        (&stats.exact_duplicates, "identical"),
        (&stats.near_duplicates, "near-identical"),
    ] {
        if !groups.is_empty() {
            let conflicting = groups.iter().filter(|g| g.conflicting).count();
            warnings.push(format!(
                "{} groups of {what} pictures ({} pictures){}",
                groups.len(),
                groups.iter().map(|g| g.rows.len()).sum::<usize>(),
                if conflicting > 0 {
                    format!(", {conflicting} with conflicting labels")
                } else {
                    String::new()
                }
            ));
        }
    }
    if stats.exact_leaks + stats.near_leaks > 0 {
        warnings.push(format!(
            "leakage: {} test pictures are identical and {} near-identical to training pictures; test scores will be optimistic",
            stats.exact_leaks, stats.near_leaks
        ));
    }
}

/// The test file's classes, unseen labels and leakage, adding warnings for each problem.
fn summarise_test(
    train: &Dataset,
    test: &Dataset,
    train_map: &LabelMap,
    pictures: bool,
    warnings: &mut Vec<String>,
) -> TestSummary {
    let unseen: Vec<Label> = test
        .label_map()
        .labels()
        .iter()
        .filter(|label| train_map.index_of(label).is_none())
        .cloned()
        .collect();
    let mut order = train_map.labels().to_vec();
    order.extend(unseen.iter().cloned());
    let classes = class_counts(&test.labels, &LabelMap::from_ordered(order));
    if !unseen.is_empty() {
        warnings.push(format!(
            "the test file has labels the training file never has: {}",
            join_labels(&unseen)
        ));
    }
    // Pictures leak by their files (the image statistics), not by their paths.
    let leakage = if pictures {
        LeakageReport::default()
    } else {
        find_leakage(train, test)
    };
    if leakage.leaked_rows > 0 {
        warnings.push(format!(
            "leakage: {} of {} test rows ({:.1}%) also appear in the training file; test scores will be optimistic",
            leakage.leaked_rows,
            leakage.test_rows,
            leakage.leaked_share * 100.0
        ));
    }
    TestSummary {
        file: test.path.clone(),
        rows: test.len(),
        classes,
        unseen_labels: unseen,
        leakage,
    }
}

impl fmt::Display for DataSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} rows, {} data",
            self.file.display(),
            self.rows,
            self.kind
        )?;
        if let Some(features) = &self.features {
            writeln!(f, "features ({}): {}", features.len(), features.join(", "))?;
        }
        writeln!(f)?;
        write_classes(f, &self.classes)?;
        writeln!(
            f,
            "imbalance ratio (largest / smallest): {:.2}",
            self.imbalance_ratio
        )?;
        if let Some(images) = &self.images {
            writeln!(f)?;
            writeln!(
                f,
                "pictures: {} read; width {}–{} (median {}), height {}–{} (median {}); {}",
                images.pictures,
                images.width[0],
                images.width[2],
                images.width[1],
                images.height[0],
                images.height[2],
                images.height[1],
                images
                    .channels
                    .iter()
                    .map(|(c, n)| format!("{n} {c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        if let Some(lengths) = &self.lengths {
            writeln!(f)?;
            writeln!(f, "text length in {}:", lengths.unit)?;
            writeln!(
                f,
                "  min {:.0}  p25 {:.0}  median {:.0}  p75 {:.0}  p90 {:.0}  p95 {:.0}  p99 {:.0}  max {:.0}  mean {:.1}",
                lengths.min,
                lengths.p25,
                lengths.median,
                lengths.p75,
                lengths.p90,
                lengths.p95,
                lengths.p99,
                lengths.max,
                lengths.mean
            )?;
            for over in &lengths.over {
                writeln!(
                    f,
                    "  longer than {:>3} tokens: {:5.1}%",
                    over.limit,
                    over.share * 100.0
                )?;
            }
        }
        writeln!(f)?;
        writeln!(
            f,
            "duplicates: {} extra rows in {} groups, {} with conflicting labels",
            self.duplicates.extra_rows, self.duplicates.groups, self.duplicates.conflicting_groups
        )?;
        for group in &self.duplicates.examples {
            let lines: Vec<String> = group.lines.iter().map(u64::to_string).collect();
            writeln!(
                f,
                "  lines {} [{}]: {}",
                lines.join(", "),
                join_labels(&group.labels),
                group.example
            )?;
        }
        if let Some(test) = &self.test {
            writeln!(f)?;
            writeln!(f, "test file {}: {} rows", test.file.display(), test.rows)?;
            write_classes(f, &test.classes)?;
            writeln!(
                f,
                "leakage: {} test rows ({:.1}%) also in training",
                test.leakage.leaked_rows,
                test.leakage.leaked_share * 100.0
            )?;
            for leak in &test.leakage.examples {
                writeln!(
                    f,
                    "  test line {} = training line {}: {}",
                    leak.test_line, leak.train_line, leak.example
                )?;
            }
        }
        writeln!(f)?;
        if self.warnings.is_empty() {
            writeln!(f, "no warnings")?;
        } else {
            writeln!(f, "warnings:")?;
            for warning in &self.warnings {
                writeln!(f, "  - {warning}")?;
            }
        }
        Ok(())
    }
}

/// A table of class counts with a bar for each share.
fn write_classes(f: &mut fmt::Formatter<'_>, classes: &[ClassCount]) -> fmt::Result {
    let width = classes
        .iter()
        .map(|c| c.label.to_string().chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    writeln!(f, "{:<width$}  {:>8}  {:>6}", "class", "rows", "share")?;
    for class in classes {
        let bar = "█".repeat((class.share * 30.0).round() as usize);
        writeln!(
            f,
            "{:<width$}  {:>8}  {:>5.1}%  {bar}",
            class.label.to_string(),
            class.count,
            class.share * 100.0
        )?;
    }
    Ok(())
}
