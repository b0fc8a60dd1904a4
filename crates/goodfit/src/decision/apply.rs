//! Scoring predictions made with a decision rule.

use crate::data::LabelMap;
use crate::error::Result;
use crate::metrics::{self, Metrics};

use super::rule::DecisionRule;

/// The predicted class of each row of class probabilities: the rule's, or argmax without one.
pub fn predict_all(proba: &[Vec<f64>], rule: Option<&DecisionRule>) -> Vec<usize> {
    proba
        .iter()
        .map(|p| match rule {
            Some(rule) => rule.predict(&p.iter().map(|v| v.ln()).collect::<Vec<f64>>()),
            None => crate::data::predictions::argmax(p),
        })
        .collect()
}

/// The full metric suite of predictions made by `rule` from `proba` (the probability metrics
/// do not change; the label metrics do).
pub fn apply(
    proba: &[Vec<f64>],
    targets: &[usize],
    labels: &LabelMap,
    rule: &DecisionRule,
) -> Result<Metrics> {
    metrics::compute(
        targets,
        &predict_all(proba, Some(rule)),
        Some(proba),
        labels,
    )
}
