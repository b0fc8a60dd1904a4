//! Choosing the decision rule after training (`--tune-threshold`, `--logit-adjust`) and
//! recording what it changed.

use serde_json::{json, Value};

use crate::data::LabelMap;
use crate::decision::{apply, predict_all, tune, DecisionRule, Objective, Scoring, Tuned};
use crate::error::Result;
use crate::metrics::Metrics;

use super::config::TrainConfig;
use super::imbalance::class_prior;

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

/// Metrics of a scored set under the rule, when there is one.
pub fn with_rule(
    decision: Option<&Decision>,
    proba: &[Vec<f64>],
    targets: &[usize],
    labels: &LabelMap,
    argmax: Metrics,
) -> Result<Metrics> {
    match decision {
        Some(d) => apply(proba, targets, labels, &d.rule),
        None => Ok(argmax),
    }
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
                let predicted = predict_all(proba, rule);
                let k = labels.len();
                let mut counts = vec![vec![0u64; k]; k];
                for (&t, &p) in targets.iter().zip(&predicted) {
                    counts[t][p] += 1;
                }
                scoring.value(&counts)
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
