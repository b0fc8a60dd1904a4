//! Input checks shared by every metric, so that bad input becomes an
//! [`Error::Invalid`](crate::Error::Invalid) with a clear message instead of a panic or a NaN.
//!
//! scikit-learn raises `ValueError` for the same situations (`check_consistent_length`,
//! labels outside `labels=`, `y_prob` outside `[0, 1]` in `log_loss`), so refusing them
//! here keeps every number we do report comparable with scikit-learn's.

use crate::error::{Error, Result};

/// Checks the class-index targets: non-empty, equal lengths, every index below `n_classes`.
pub(crate) fn check_targets(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Result<()> {
    check_true(y_true, n_classes)?;
    if y_pred.len() != y_true.len() {
        return Err(Error::Invalid(format!(
            "y_true has {} examples but y_pred has {}; they must be the same length",
            y_true.len(),
            y_pred.len()
        )));
    }
    check_indices("y_pred", y_pred, n_classes)
}

/// Checks `y_true` alone: non-empty, at least one class, every index below `n_classes`.
pub(crate) fn check_true(y_true: &[usize], n_classes: usize) -> Result<()> {
    if y_true.is_empty() {
        return Err(Error::Invalid(
            "no examples to score: y_true is empty".to_string(),
        ));
    }
    if n_classes == 0 {
        return Err(Error::Invalid(
            "no classes to score against: the label map is empty".to_string(),
        ));
    }
    check_indices("y_true", y_true, n_classes)
}

/// Checks that every entry of `values` is a valid class index.
fn check_indices(name: &str, values: &[usize], n_classes: usize) -> Result<()> {
    match values.iter().position(|&class| class >= n_classes) {
        Some(at) => Err(Error::Invalid(format!(
            "{name}[{at}] is class index {}, but there are only {n_classes} classes (valid indices are 0 to {})",
            values[at],
            n_classes - 1
        ))),
        None => Ok(()),
    }
}

/// Checks a probability matrix: one row per example, one column per class, every entry a
/// finite number in `[0, 1]` (scikit-learn's `log_loss` and `brier_score_loss` raise
/// `ValueError` for values above 1 or below 0, and `check_array` refuses NaN and infinity).
///
/// Rows need not sum to 1: scikit-learn 1.9 only warns about that and does not renormalise.
pub(crate) fn check_proba(proba: &[Vec<f64>], n_examples: usize, n_classes: usize) -> Result<()> {
    if proba.len() != n_examples {
        return Err(Error::Invalid(format!(
            "proba has {} rows but there are {n_examples} examples; give one row per example",
            proba.len()
        )));
    }
    for (i, row) in proba.iter().enumerate() {
        if row.len() != n_classes {
            return Err(Error::Invalid(format!(
                "proba row {i} has {} columns but there are {n_classes} classes; give one column per class, in label order",
                row.len()
            )));
        }
        if let Some(j) = row
            .iter()
            .position(|p| !p.is_finite() || *p < 0.0 || *p > 1.0)
        {
            return Err(Error::Invalid(format!(
                "proba[{i}][{j}] is {}, not a probability in [0, 1]",
                row[j]
            )));
        }
    }
    Ok(())
}
