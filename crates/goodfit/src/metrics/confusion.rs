//! The confusion matrix that every label-based metric is computed from.

use crate::error::{Error, Result};

use super::validate;

/// Counts of (true class, predicted class) pairs over a fixed list of classes.
///
/// Rows are true classes and columns predicted classes, as in scikit-learn's
/// `confusion_matrix(y_true, y_pred, labels=labels)`: entry `[i][j]` is the number of
/// examples of class `i` that were predicted as class `j`. Classes that appear in neither
/// `y_true` nor `y_pred` keep their (all-zero) row and column, like scikit-learn's
/// `labels=` argument. A matrix always holds at least one example, so every rate below
/// has a non-zero total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfusionMatrix {
    counts: Vec<Vec<u64>>,
    total: u64,
}

impl ConfusionMatrix {
    /// Counts `y_true` against `y_pred`, both class indices in `0..n_classes`.
    ///
    /// Fails on empty input, unequal lengths or an index out of range.
    pub fn from_indices(y_true: &[usize], y_pred: &[usize], n_classes: usize) -> Result<Self> {
        validate::check_targets(y_true, y_pred, n_classes)?;
        let mut counts = vec![vec![0u64; n_classes]; n_classes];
        for (&t, &p) in y_true.iter().zip(y_pred) {
            counts[t][p] += 1;
        }
        Ok(ConfusionMatrix {
            total: y_true.len() as u64,
            counts,
        })
    }

    /// Wraps counts computed elsewhere (for example [`Metrics::confusion_matrix`](super::Metrics)).
    ///
    /// Fails unless the matrix is square, has at least one class and counts at least one example.
    pub fn from_counts(counts: Vec<Vec<u64>>) -> Result<Self> {
        let n = counts.len();
        if n == 0 {
            return Err(Error::Invalid("the confusion matrix has no classes".into()));
        }
        if let Some(i) = counts.iter().position(|row| row.len() != n) {
            return Err(Error::Invalid(format!(
                "the confusion matrix is not square: row {i} has {} entries, expected {n}",
                counts[i].len()
            )));
        }
        let mut total = 0u64;
        for &count in counts.iter().flatten() {
            total = total.checked_add(count).ok_or_else(|| {
                Error::Invalid("the confusion matrix counts overflow 64 bits".into())
            })?;
        }
        if total == 0 {
            return Err(Error::Invalid(
                "the confusion matrix counts no examples".into(),
            ));
        }
        Ok(ConfusionMatrix { counts, total })
    }

    /// The number of classes (rows, and columns).
    pub fn n_classes(&self) -> usize {
        self.counts.len()
    }

    /// The number of examples counted (always at least 1).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The counts, rows = true class, columns = predicted class.
    pub fn counts(&self) -> &[Vec<u64>] {
        &self.counts
    }

    /// The counts as an owned matrix (for [`Metrics`](super::Metrics)).
    pub fn into_counts(self) -> Vec<Vec<u64>> {
        self.counts
    }

    /// Examples of class `k` predicted as `k` (the diagonal).
    pub fn true_positives(&self, k: usize) -> u64 {
        self.counts[k][k]
    }

    /// Examples whose true class is `k` (the row sum; scikit-learn's "support").
    pub fn support(&self, k: usize) -> u64 {
        self.counts[k].iter().sum()
    }

    /// Examples predicted as class `k` (the column sum).
    pub fn predicted(&self, k: usize) -> u64 {
        self.counts.iter().map(|row| row[k]).sum()
    }

    /// Examples predicted correctly (the trace).
    pub fn correct(&self) -> u64 {
        (0..self.n_classes()).map(|k| self.true_positives(k)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_true_classes_and_columns_predictions() {
        let cm = ConfusionMatrix::from_indices(&[0, 0, 1, 2], &[0, 1, 1, 1], 4).unwrap();
        assert_eq!(
            cm.counts(),
            &[
                vec![1, 1, 0, 0],
                vec![0, 1, 0, 0],
                vec![0, 1, 0, 0],
                vec![0, 0, 0, 0]
            ]
        );
        assert_eq!(cm.support(0), 2);
        assert_eq!(cm.predicted(1), 3);
        assert_eq!(cm.correct(), 2);
        assert_eq!(cm.total(), 4);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(ConfusionMatrix::from_indices(&[], &[], 2).is_err());
        assert!(ConfusionMatrix::from_indices(&[0], &[0, 1], 2).is_err());
        assert!(ConfusionMatrix::from_indices(&[0, 2], &[0, 1], 2).is_err());
        assert!(ConfusionMatrix::from_indices(&[0], &[0], 0).is_err());
        assert!(ConfusionMatrix::from_counts(vec![]).is_err());
        assert!(ConfusionMatrix::from_counts(vec![vec![1, 0], vec![0]]).is_err());
        assert!(ConfusionMatrix::from_counts(vec![vec![0, 0], vec![0, 0]]).is_err());
        assert!(ConfusionMatrix::from_counts(vec![vec![u64::MAX, 1], vec![0, 0]]).is_err());
    }
}
