//! Ranking metrics from scores: ROC-AUC and average precision.
//!
//! Both walk the same curve as scikit-learn's `_binary_clf_curve`: examples sorted by score,
//! highest first, with one point per *distinct* score, so tied scores move together and
//! ties are handled exactly as scikit-learn handles them.

use crate::error::{Error, Result};

use super::validate;

/// Cumulative (true positives, false positives) at each distinct score, highest score first,
/// as scikit-learn's `_binary_clf_curve` (without the initial `(0, 0)` point).
fn curve(is_positive: &[bool], scores: &[f64]) -> Vec<(u64, u64)> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    // Scores are finite (checked), so `total_cmp` orders them numerically; the order among
    // equal scores does not matter because only the end of a tie block is recorded.
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut points = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    for (rank, &i) in order.iter().enumerate() {
        if is_positive[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let block_ends = order
            .get(rank + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if block_ends {
            points.push((tp, fp));
        }
    }
    points
}

/// Checks a binary problem given as flags and scores: same length, non-empty, finite scores.
fn check_binary(is_positive: &[bool], scores: &[f64]) -> Result<()> {
    if is_positive.is_empty() {
        return Err(Error::Invalid(
            "no examples to score: y_true is empty".into(),
        ));
    }
    if is_positive.len() != scores.len() {
        return Err(Error::Invalid(format!(
            "y_true has {} examples but the scores have {}; they must be the same length",
            is_positive.len(),
            scores.len()
        )));
    }
    if let Some(i) = scores.iter().position(|s| !s.is_finite()) {
        return Err(Error::Invalid(format!(
            "score {i} is {}, not a finite number",
            scores[i]
        )));
    }
    Ok(())
}

/// Area under the ROC curve of one binary problem (`roc_auc_score` on binary `y_true`).
///
/// scikit-learn integrates the ROC curve of distinct thresholds with the trapezoid rule,
/// which gives tied positive/negative pairs half credit (the Mann–Whitney U statistic with
/// average ranks). The area is summed in exact integers and divided once, so it is the
/// correctly rounded value of the same quantity. `None` when `y_true` holds only one class,
/// where scikit-learn warns and returns NaN.
pub fn binary_roc_auc(is_positive: &[bool], scores: &[f64]) -> Result<Option<f64>> {
    check_binary(is_positive, scores)?;
    let positives = is_positive.iter().filter(|&&p| p).count() as u128;
    let negatives = is_positive.len() as u128 - positives;
    if positives == 0 || negatives == 0 {
        return Ok(None);
    }
    // Twice the trapezoid area in units of (1 false positive) × (1 true positive).
    let mut twice_area: u128 = 0;
    let (mut tp_prev, mut fp_prev) = (0u128, 0u128);
    for (tp, fp) in curve(is_positive, scores) {
        let (tp, fp) = (tp as u128, fp as u128);
        twice_area += (fp - fp_prev) * (tp + tp_prev);
        (tp_prev, fp_prev) = (tp, fp);
    }
    Ok(Some(
        twice_area as f64 / (2.0 * positives as f64 * negatives as f64),
    ))
}

/// Average precision of one binary problem (`average_precision_score` on binary `y_true`).
///
/// The step-wise sum, with no interpolation, over distinct thresholds from the highest score
/// down: `Σ (R_n − R_{n−1}) · P_n`. `None` when `y_true` has no positive example: recall is
/// then undefined (scikit-learn warns and returns 0.0 here; we report it as undefined, as
/// the reference fixture does).
pub fn binary_average_precision(is_positive: &[bool], scores: &[f64]) -> Result<Option<f64>> {
    check_binary(is_positive, scores)?;
    let positives = is_positive.iter().filter(|&&p| p).count();
    if positives == 0 {
        return Ok(None);
    }
    let positives = positives as f64;
    let mut sum = 0.0;
    let mut tp_prev = 0u64;
    for (tp, fp) in curve(is_positive, scores) {
        let precision = tp as f64 / (tp + fp) as f64;
        sum += (tp - tp_prev) as f64 / positives * precision;
        tp_prev = tp;
    }
    // scikit-learn clips a `-0.0` from rounding; our terms are never negative, but keep the
    // same guarantee.
    Ok(Some(sum.max(0.0)))
}

/// Applies a binary metric the way scikit-learn does for a probability matrix: with two
/// classes, to the second column (the second label is the positive class); with more,
/// one-vs-rest to every column and the unweighted mean (`average='macro'`), undefined if
/// any class's score is undefined (scikit-learn's mean is then NaN).
fn binary_or_macro(
    y_true: &[usize],
    proba: &[Vec<f64>],
    n_classes: usize,
    metric: fn(&[bool], &[f64]) -> Result<Option<f64>>,
) -> Result<Option<f64>> {
    validate::check_true(y_true, n_classes)?;
    validate::check_proba(proba, y_true.len(), n_classes)?;
    let one_vs_rest = |class: usize| -> Result<Option<f64>> {
        let is_positive: Vec<bool> = y_true.iter().map(|&t| t == class).collect();
        let scores: Vec<f64> = proba.iter().map(|row| row[class]).collect();
        metric(&is_positive, &scores)
    };
    match n_classes {
        0 | 1 => Ok(None),
        2 => one_vs_rest(1),
        _ => {
            let mut sum = 0.0;
            for class in 0..n_classes {
                match one_vs_rest(class)? {
                    Some(score) => sum += score,
                    None => return Ok(None),
                }
            }
            Ok(Some(sum / n_classes as f64))
        }
    }
}

/// ROC-AUC of class-index targets against a probability matrix (one column per class).
///
/// Binary: `roc_auc_score(y_true, proba[:, 1])`. Multiclass: `roc_auc_score(y_true, proba,
/// multi_class='ovr', average='macro', labels=labels)`. `None` when any class (binary: either
/// class) has no positive or no negative example in `y_true`, or there is only one class.
///
/// Unlike scikit-learn, which refuses multiclass scores whose rows do not sum to 1, this
/// computes the one-vs-rest average for any scores in `[0, 1]`.
pub fn roc_auc(y_true: &[usize], proba: &[Vec<f64>], n_classes: usize) -> Result<Option<f64>> {
    binary_or_macro(y_true, proba, n_classes, binary_roc_auc)
}

/// Average precision of class-index targets against a probability matrix.
///
/// Binary: `average_precision_score(y_true, proba[:, 1])`. Multiclass: the macro average over
/// one-vs-rest problems (`average_precision_score(y_true, proba)`, which scikit-learn computes
/// over `label_binarize`d targets). `None` when a class has no positive example in `y_true`,
/// or there is only one class.
pub fn average_precision(
    y_true: &[usize],
    proba: &[Vec<f64>],
    n_classes: usize,
) -> Result<Option<f64>> {
    binary_or_macro(y_true, proba, n_classes, binary_average_precision)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("defined");
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    // References from scikit-learn 1.9.1:
    // roc_auc_score([0,0,1,1,0,1,1], [.1,.4,.4,.8,.8,.8,.2]) and average_precision_score(...)
    #[test]
    fn ties_are_handled_as_scikit_learn_does() {
        let y = [false, false, true, true, false, true, true];
        let s = [0.1, 0.4, 0.4, 0.8, 0.8, 0.8, 0.2];
        close(binary_roc_auc(&y, &s).unwrap(), 0.625);
        close(
            binary_average_precision(&y, &s).unwrap(),
            0.6499999999999999,
        );
    }

    #[test]
    fn all_tied_scores_give_half() {
        let y = [false, true, true, false, true];
        let s = [0.5; 5];
        close(binary_roc_auc(&y, &s).unwrap(), 0.5);
        close(binary_average_precision(&y, &s).unwrap(), 0.6);
    }

    #[test]
    fn undefined_cases_are_none() {
        assert_eq!(binary_roc_auc(&[true, true], &[0.1, 0.2]).unwrap(), None);
        assert_eq!(binary_roc_auc(&[false, false], &[0.1, 0.2]).unwrap(), None);
        assert_eq!(
            binary_average_precision(&[false, false], &[0.1, 0.2]).unwrap(),
            None
        );
        // All positives: precision is 1 everywhere (scikit-learn gives 1.0).
        close(
            binary_average_precision(&[true, true], &[0.1, 0.2]).unwrap(),
            1.0,
        );
        let proba = vec![vec![0.2, 0.3, 0.5], vec![0.6, 0.3, 0.1]];
        assert_eq!(roc_auc(&[0, 1], &proba, 3).unwrap(), None);
        assert_eq!(average_precision(&[0, 1], &proba, 3).unwrap(), None);
        assert_eq!(roc_auc(&[0, 0], &[vec![1.0], vec![1.0]], 1).unwrap(), None);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(binary_roc_auc(&[], &[]).is_err());
        assert!(binary_roc_auc(&[true], &[0.1, 0.2]).is_err());
        assert!(binary_roc_auc(&[true, false], &[f64::NAN, 0.2]).is_err());
        assert!(roc_auc(&[0, 1], &[vec![0.5, 0.5]], 2).is_err());
        assert!(roc_auc(&[0, 1], &[vec![0.5, 0.5], vec![1.0]], 2).is_err());
        assert!(roc_auc(&[0, 2], &[vec![0.5, 0.5], vec![0.5, 0.5]], 2).is_err());
        assert!(average_precision(&[0, 1], &[vec![0.5, 0.5], vec![1.5, 0.0]], 2).is_err());
    }
}
