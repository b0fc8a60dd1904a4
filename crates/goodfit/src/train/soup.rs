//! The greedy soup of finished runs (Wortsman et al. 2022, "Model soups", recipe 2): rank
//! the runs by their own validation score, start from the best, and add each next run's
//! weights to the average only when the averaged model scores at least as well on the
//! validation rows. The result is one classifier, as cheap to run as any member.
//!
//! Every member must have been scored on the same validation rows — the same training (or
//! validation) file, split seed and fraction, columns — which is checked from each run's
//! `config.toml` and, row by row, against its saved validation labels.

use std::path::{Path, PathBuf};

use candle_core::Device;
use serde::Serialize;

use crate::data::LabelMap;
use crate::decision::predict_all;
use crate::error::{Error, Position, Result};
use crate::metrics::{self, Metrics};
use crate::model::soup::{Ingredient, Soup};
use crate::model::{registry, ModelFolder, SavedClassifier};
use crate::run_folder::records::Predictions;
use crate::run_folder::{check_out_dir, CONFIG_FILE, MODEL_DIR, SOUP_FILE, VAL_PREDICTIONS_FILE};

use super::data::{prepare, Examples};
use super::evaluate::{predict_logits, softmax};
use super::observer::Observer;
use super::records::{write_json, write_predictions};
use super::TrainConfig;

/// The score a soup is built on: macro-F1 of the most probable class, as `--auto` chooses.
pub const SOUP_METRIC: &str = "f1_macro";

/// One run considered for the soup, in the order they were tried (best alone first).
#[derive(Debug, Clone, Serialize)]
pub struct SoupStep {
    /// The run folder.
    pub run: PathBuf,
    /// Its own validation score.
    pub alone: f64,
    /// The soup's validation score with it added (the first run: itself).
    pub with_it: f64,
    /// Whether it stayed in the soup.
    pub kept: bool,
}

/// A greedy soup and how it was made.
#[derive(Debug, Clone, Serialize)]
pub struct GreedySoup {
    /// The record's format (see [`crate::run_folder::records::FORMAT`]).
    pub format: u32,
    /// The metric the choices were made on.
    pub metric: String,
    /// Every run, best alone first.
    pub steps: Vec<SoupStep>,
    /// The runs averaged.
    pub members: Vec<PathBuf>,
    /// The soup's validation score.
    pub val_score: f64,
    /// The uniform soup of every run, for comparison.
    pub uniform_score: f64,
    /// The soup's validation metrics (argmax).
    pub val: Metrics,
    /// The validation rows.
    pub val_rows: usize,
}

/// Makes the greedy soup of the finished runs `runs` and writes it to `out` (`model/`,
/// `soup.json`, the soup's validation predictions). Everything is read and checked before
/// `out` is touched; a folder holding a run is refused unless `overwrite`.
pub fn soup_runs(
    runs: &[PathBuf],
    out: &Path,
    overwrite: bool,
    observer: &dyn Observer,
) -> Result<GreedySoup> {
    if runs.len() < 2 {
        return Err(Error::Invalid(
            "a soup needs at least two run folders".into(),
        ));
    }
    check_out_dir(out, overwrite)?;
    let configs = runs
        .iter()
        .map(|r| TrainConfig::read(&r.join(CONFIG_FILE)))
        .collect::<Result<Vec<_>>>()?;
    for (run, config) in runs.iter().zip(&configs).skip(1) {
        if let Some(field) = other_split(&configs[0], config) {
            return Err(Error::input(
                Position::file(&run.join(CONFIG_FILE)).with_field(field),
                format!(
                    "not the validation rows of {}: a soup is chosen on rows every member was scored on",
                    runs[0].display()
                ),
            ));
        }
    }
    let ingredients = runs
        .iter()
        .map(|r| Ingredient::read(&r.join(MODEL_DIR)))
        .collect::<Result<Vec<_>>>()?;
    // Checked now, before anything is scored: the members are one kind of classifier.
    Soup::check(&ingredients.iter().collect::<Vec<_>>())?;
    let first = &ingredients[0];
    let config = TrainConfig {
        max_len: first.info.max_len,
        test: None,
        eda_copies: 0,
        ..configs[0].clone()
    };
    let preprocessor = registry::preprocessor(&ModelFolder::open(&first.dir)?)?;
    let data = prepare(&config, &preprocessor, observer)?;
    if data.labels.labels() != first.info.labels.as_slice() {
        return Err(Error::input(
            Position::file(&config.train).with_field(&config.label_col),
            format!(
                "its classes are not those {} was trained on",
                runs[0].display()
            ),
        ));
    }
    for run in runs {
        let path = run.join(VAL_PREDICTIONS_FILE);
        let saved = Predictions::read(&path)?;
        if saved.y_true != data.val.targets {
            return Err(Error::input(
                Position::file(&path).with_field("y_true"),
                format!(
                    "the run was scored on other validation rows than {} now gives (changed since?)",
                    config.train.display()
                ),
            ));
        }
    }
    let scorer = Scorer {
        val: &data.val,
        labels: &data.labels,
        batch_size: config.eval_batch_size,
    };
    let (soup, kept, proba) = greedy(&ingredients, runs, &scorer, observer)?;
    // The soup again, to save it (its score and probabilities are the greedy step's).
    let members: Vec<&Ingredient> = kept.iter().map(|&i| &ingredients[i]).collect();
    let averaged = Soup::average(&members)?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    averaged.save(&out.join(MODEL_DIR))?;
    write_predictions(
        &out.join(VAL_PREDICTIONS_FILE),
        &data.labels,
        &data.val.targets,
        &proba,
    )?;
    write_json(&out.join(SOUP_FILE), &soup)?;
    Ok(soup)
}

/// Scores classifiers on the shared validation rows.
struct Scorer<'a> {
    val: &'a Examples,
    labels: &'a LabelMap,
    batch_size: usize,
}

impl Scorer<'_> {
    /// [`SOUP_METRIC`] of `classifier`'s most probable classes, its metrics and its
    /// probabilities.
    fn score(&self, classifier: &SavedClassifier) -> Result<(f64, Metrics, Vec<Vec<f64>>)> {
        let rows: Vec<usize> = (0..self.val.len()).collect();
        let logits = predict_logits(
            &classifier.classifier,
            &self.val.encoded,
            &rows,
            None,
            self.batch_size,
            &classifier.folder.collator(Device::Cpu),
            &mut |_| {},
        )?;
        let proba: Vec<Vec<f64>> = logits.iter().map(|z| softmax(z)).collect();
        let predicted = predict_all(&proba, None);
        let m = metrics::compute(&self.val.targets, &predicted, Some(&proba), self.labels)?;
        let value = m.get(SOUP_METRIC).unwrap_or(f64::NAN);
        Ok((value, m, proba))
    }
}

/// Wortsman's greedy soup of `ingredients` (the models of `runs`): returns the record, the
/// indices of the members kept (best alone first) and the soup's validation probabilities.
#[allow(clippy::type_complexity)]
fn greedy(
    ingredients: &[Ingredient],
    runs: &[PathBuf],
    scorer: &Scorer<'_>,
    observer: &dyn Observer,
) -> Result<(GreedySoup, Vec<usize>, Vec<Vec<f64>>)> {
    let mut scored = ingredients
        .iter()
        .map(|i| scorer.score(&Soup::average(&[i])?.classifier()?))
        .collect::<Result<Vec<_>>>()?;
    let alone: Vec<f64> = scored.iter().map(|s| s.0).collect();
    let mut order: Vec<usize> = (0..ingredients.len()).collect();
    // Stable: among equals the run named first goes first.
    order.sort_by(|&a, &b| alone[b].total_cmp(&alone[a]));
    let mut kept = vec![order[0]];
    let (mut current, mut val, mut proba) = scored.swap_remove(order[0]);
    let mut steps = vec![SoupStep {
        run: runs[order[0]].clone(),
        alone: alone[order[0]],
        with_it: current,
        kept: true,
    }];
    for &i in &order[1..] {
        let mut candidate: Vec<&Ingredient> = kept.iter().map(|&k| &ingredients[k]).collect();
        candidate.push(&ingredients[i]);
        let (value, m, p) = scorer.score(&Soup::average(&candidate)?.classifier()?)?;
        // Wortsman's rule: kept when the soup scores at least as well with it.
        let keep = value >= current;
        observer.message(&format!(
            "{}: {SOUP_METRIC} {:.4} alone, the soup with it {value:.4}: {}",
            runs[i].display(),
            alone[i],
            if keep { "kept" } else { "left out" }
        ));
        if keep {
            kept.push(i);
            current = value;
            val = m;
            proba = p;
        }
        steps.push(SoupStep {
            run: runs[i].clone(),
            alone: alone[i],
            with_it: value,
            kept: keep,
        });
    }
    let all: Vec<&Ingredient> = ingredients.iter().collect();
    let uniform_score = scorer.score(&Soup::average(&all)?.classifier()?)?.0;
    let soup = GreedySoup {
        format: crate::run_folder::records::FORMAT,
        metric: SOUP_METRIC.into(),
        members: kept.iter().map(|&k| runs[k].clone()).collect(),
        steps,
        val_score: current,
        uniform_score,
        val,
        val_rows: scorer.val.len(),
    };
    Ok((soup, kept, proba))
}

/// The first field of `b` that gives other validation rows than `a`.
fn other_split(a: &TrainConfig, b: &TrainConfig) -> Option<&'static str> {
    if a.train != b.train {
        Some("train")
    } else if a.val != b.val {
        Some("val")
    } else if a.val.is_none() && a.val_fraction != b.val_fraction {
        Some("val_fraction")
    } else if a.val.is_none() && a.split_seed.unwrap_or(a.seed) != b.split_seed.unwrap_or(b.seed) {
        Some("split_seed")
    } else if a.text_col != b.text_col {
        Some("text_col")
    } else if a.label_col != b.label_col {
        Some("label_col")
    } else {
        None
    }
}
