//! Choosing the decision rule after training (`--tune-threshold`, `--logit-adjust`) and
//! recording what it changed.

use serde_json::{json, Value};

use crate::data::LabelMap;
use crate::decision::{apply, predict_all, tune, DecisionRule, Objective, Scoring, Tuned};
use std::path::Path;

use crate::error::{Error, Position, Result};
use crate::io::write_atomic;
use crate::metrics::Metrics;
use crate::model::save::INFO_FILE;
use crate::model::ClassifierInfo;
use crate::run_folder::metrics::RunMetrics;
use crate::run_folder::records::{Predictions, FORMAT};

use super::config::TrainConfig;
use super::imbalance::class_prior;
use super::predictor::{EnsembleInfo, ENSEMBLE_FILE};
use super::trainer::{
    write_json, CONFIG_FILE, METRICS_FILE, MODEL_DIR, TEST_PREDICTIONS_FILE, VAL_PREDICTIONS_FILE,
};

/// Curve points kept in `metrics.json` at most (a binary validation set can have a distinct
/// score per example).
const CURVE_POINTS: usize = 200;

/// The rule a run's model predicts with, and how it was found.
pub struct Decision {
    /// The rule.
    pub rule: DecisionRule,
    /// With `--tune-threshold`: the objective and the search's result.
    pub tuned: Option<(Scoring, Objective, Tuned)>,
}

/// The rule `config` asks for, found on the validation set's probabilities `val_proba`;
/// `counts` are the training rows per class. `None` when the model predicts by argmax.
pub fn choose_rule(
    config: &TrainConfig,
    labels: &LabelMap,
    counts: &[usize],
    val_proba: &[Vec<f64>],
    val_targets: &[usize],
) -> Result<Option<Decision>> {
    if let Some(tau) = config.logit_adjust {
        return Ok(Some(Decision {
            rule: DecisionRule::posthoc_adjustment(&class_prior(counts), tau),
            tuned: None,
        }));
    }
    let Some(objective) = &config.tune_threshold else {
        return Ok(None);
    };
    let positive = positive_class(counts);
    let scoring = objective.scoring(labels, positive)?;
    let log_proba: Vec<Vec<f64>> = val_proba
        .iter()
        .map(|p| p.iter().map(|v| v.ln()).collect())
        .collect();
    let tuned = tune(&log_proba, val_targets, &scoring, positive)?;
    Ok(Some(Decision {
        rule: tuned.rule.clone(),
        tuned: Some((scoring, objective.clone(), tuned)),
    }))
}

/// The class a binary cut-off is put on: the rarer one in training (the later on a tie), the
/// class imbalance work is about.
pub fn positive_class(counts: &[usize]) -> usize {
    (0..counts.len())
        .rev()
        .min_by_key(|&c| counts[c])
        .unwrap_or(0)
}

/// A run's final scores under its decision rule.
pub struct Decided {
    /// The rule and how it was found; `None`: argmax.
    pub decision: Option<Decision>,
    /// Validation metrics under the rule.
    pub val: Metrics,
    /// Test metrics under the rule, when there is a test set.
    pub test: Option<Metrics>,
    /// The `decision` section of `metrics.json`, when there is a rule.
    pub doc: Option<Value>,
}

/// Chooses the rule `config` asks for on the validation set and scores both sets with it;
/// `counts` are the training rows per class.
pub fn decide(
    config: &TrainConfig,
    labels: &LabelMap,
    counts: &[usize],
    val: ScoredSet<'_>,
    test: Option<ScoredSet<'_>>,
) -> Result<Decided> {
    let decision = choose_rule(config, labels, counts, val.1, val.2)?;
    let Some(d) = &decision else {
        return Ok(Decided {
            decision: None,
            val: val.0.clone(),
            test: test.map(|t| t.0.clone()),
            doc: None,
        });
    };
    Ok(Decided {
        val: apply(val.1, val.2, labels, &d.rule)?,
        test: test.map(|t| apply(t.1, t.2, labels, &d.rule)).transpose()?,
        doc: Some(decision_json(d, labels, val, test)),
        decision,
    })
}

/// One scored set: the argmax metrics, the class probabilities and the true classes.
pub type ScoredSet<'a> = (&'a Metrics, &'a [Vec<f64>], &'a [usize]);

/// The `decision` section of `metrics.json`: the rule, the objective before and after on the
/// validation (and test) set, the search curve, and the argmax metrics for comparison.
pub fn decision_json(
    decision: &Decision,
    labels: &LabelMap,
    val: ScoredSet<'_>,
    test: Option<ScoredSet<'_>>,
) -> Value {
    let mut doc = json!({
        "rule": decision.rule,
        "description": decision.rule.describe(labels),
        "source": if decision.tuned.is_some() { "tuned" } else { "posthoc_logit_adjustment" },
        "val_argmax": val.0,
    });
    if let Some((test_argmax, _, _)) = test {
        doc["test_argmax"] = json!(test_argmax);
    }
    if let Some((scoring, objective, tuned)) = &decision.tuned {
        let step = tuned.curve.len().div_ceil(CURVE_POINTS).max(1);
        let curve: Vec<[f64; 2]> = tuned
            .curve
            .iter()
            .enumerate()
            .filter(|(i, _)| i % step == 0 || *i + 1 == tuned.curve.len())
            .map(|(_, &(x, y))| [x, y])
            .collect();
        doc["objective"] = json!(objective.to_string());
        doc["val_before"] = json!(tuned.before);
        doc["val_after"] = json!(tuned.after);
        doc["curve"] = json!(curve);
        if let Some((_, proba, targets)) = test {
            let value = |rule: Option<&DecisionRule>| {
                scoring
                    .value_of(targets, &predict_all(proba, rule), labels.len())
                    .ok()
            };
            doc["test_before"] = json!(value(None));
            doc["test_after"] = json!(value(Some(&decision.rule)));
        }
    }
    doc
}

/// One line about the rule for the end of `train`: the rule and, when tuned, the objective
/// before and after.
pub fn summarise_decision(doc: &Value) -> String {
    let mut line = format!(
        "decision rule: {}",
        doc["description"].as_str().unwrap_or_default()
    );
    if let Some(objective) = doc["objective"].as_str() {
        let pair = |set: &str| -> Option<String> {
            Some(format!(
                "{:.4} → {:.4} on {set}",
                doc[format!("{set}_before")].as_f64()?,
                doc[format!("{set}_after")].as_f64()?
            ))
        };
        let changes: Vec<String> = ["val", "test"].into_iter().filter_map(pair).collect();
        line += &format!(" (tuned for {objective}: {})", changes.join(", "));
    } else {
        line += " (post-hoc logit adjustment)";
    }
    line
}

/// Chooses a run's decision rule again, after training, from its saved validation
/// probabilities (`goodfit decide`): `tune_threshold` or `logit_adjust` as in `train`, or
/// neither for argmax. Rewrites the run's `config.toml`, `metrics.json`, the model's
/// `goodfit.json` (or `ensemble.json`, when the run predicts with one), the diagnosis and
/// the report, as if it had been trained with those
/// settings (it would have been the same model: the rule does not change training).
pub fn redecide_run(
    run: &Path,
    tune_threshold: Option<Objective>,
    logit_adjust: Option<f64>,
) -> Result<Decided> {
    let config_path = run.join(CONFIG_FILE);
    let mut config = TrainConfig::read(&config_path)?;
    config.tune_threshold = tune_threshold;
    config.logit_adjust = logit_adjust;
    config.validate()?;
    let info_path = run.join(MODEL_DIR).join(INFO_FILE);
    let mut info: ClassifierInfo = read_json(&info_path)?;
    let labels = info.label_map();
    if info.class_counts.len() != labels.len() {
        return Err(Error::input(
            Position::file(&info_path),
            "no training class counts: the run was made by an older goodfit; train it again",
        ));
    }
    let read_set = |file: &str| -> Result<Option<(Metrics, Predictions)>> {
        let path = run.join(file);
        if !path.is_file() {
            return Ok(None);
        }
        let saved = Predictions::read(&path)?;
        let predicted = predict_all(&saved.proba, None);
        let metrics =
            crate::metrics::compute(&saved.y_true, &predicted, Some(&saved.proba), &labels)?;
        Ok(Some((metrics, saved)))
    };
    let val = read_set(VAL_PREDICTIONS_FILE)?.ok_or_else(|| {
        Error::input(
            Position::file(&run.join(VAL_PREDICTIONS_FILE)),
            "missing: is this a goodfit run folder?",
        )
    })?;
    let test = read_set(TEST_PREDICTIONS_FILE)?;
    let decided = decide(
        &config,
        &labels,
        &info.class_counts,
        (&val.0, &val.1.proba, &val.1.y_true),
        test.as_ref()
            .map(|t| (&t.0, t.1.proba.as_slice(), t.1.y_true.as_slice())),
    )?;

    let metrics_path = run.join(METRICS_FILE);
    // Read (and checked) before anything is written.
    let mut metrics = RunMetrics::read(&metrics_path)?;
    metrics.val = json!(decided.val);
    if let Some(test) = &decided.test {
        metrics.test = Some(json!(test));
    }
    metrics.decision = decided.doc.clone();
    metrics.format = FORMAT;
    let rule = decided.decision.as_ref().map(|d| d.rule.clone());
    write_atomic(&config_path, config.to_toml()?.as_bytes())?;
    metrics.write(&metrics_path)?;
    // A run folder that predicts with an ensemble has the ensemble's validation
    // probabilities saved: the rule is the ensemble's, and `model/` keeps its own.
    let ensemble_path = run.join(ENSEMBLE_FILE);
    if ensemble_path.is_file() {
        let mut ensemble: EnsembleInfo = read_json(&ensemble_path)?;
        ensemble.decision = rule;
        write_json(&ensemble_path, &ensemble)?;
    } else {
        info.decision = rule;
        write_json(&info_path, &info)?;
    }
    Ok(decided)
}

/// Reads a JSON file goodfit wrote, with errors that name the file and line.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::input(
            Position::line(path, e.line() as u64),
            format!("not what goodfit wrote: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_positive_class_is_the_rarer_one() {
        assert_eq!(positive_class(&[900, 100]), 1);
        assert_eq!(positive_class(&[30, 300]), 0);
        assert_eq!(positive_class(&[50, 50]), 1);
        assert_eq!(positive_class(&[50, 10, 10]), 2);
    }
}
