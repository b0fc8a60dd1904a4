//! `goodfit.metrics.report`: the metric suite (equal to scikit-learn) on class indices.

use goodfit::data::{Label, LabelMap};
use goodfit::metrics::compute;
use pyo3::prelude::*;

use crate::errors::{guarded, to_json};

/// Every metric of `goodfit evaluate` for `y_true` and `y_pred` (class indices into
/// `labels`), with `proba` (rows of class probabilities) when given; JSON text.
#[pyfunction]
#[pyo3(signature = (y_true, y_pred, labels, proba=None))]
pub fn report(
    py: Python<'_>,
    y_true: Vec<usize>,
    y_pred: Vec<usize>,
    labels: Vec<String>,
    proba: Option<Vec<Vec<f64>>>,
) -> PyResult<String> {
    let map = LabelMap::from_ordered(labels.into_iter().map(Label::Text).collect());
    let metrics = guarded(py, || compute(&y_true, &y_pred, proba.as_deref(), &map))?;
    to_json(&metrics)
}
