//! Label-based metrics: accuracy, precision / recall / F1 and their averages, balanced
//! accuracy, Matthews correlation, Cohen's kappa, specificity and the G-mean.
//!
//! Each is computed from a [`ConfusionMatrix`] with the same arithmetic as scikit-learn
//! 1.9 (`sklearn/metrics/_classification.py`) or imbalanced-learn 0.14
//! (`imblearn/metrics/_classification.py`), so results agree to rounding error.

use serde::Serialize;

use super::confusion::ConfusionMatrix;

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClassScores {
    /// tp / (tp + fp); 0 when the class is never predicted (`zero_division=0`).
    pub precision: f64,
    /// tp / (tp + fn); 0 when the class has no true examples (`zero_division=0`).
    pub recall: f64,
    /// 2·tp / (2·tp + fp + fn); 0 when that denominator is 0 (`zero_division=0`).
    pub f1: f64,
    /// The number of examples whose true class is this one.
    pub support: u64,
}

/// Precision, recall and F1 averaged over classes one way (macro, weighted or micro).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Averaged {
    /// Averaged precision.
    pub precision: f64,
    /// Averaged recall.
    pub recall: f64,
    /// Averaged F1.
    pub f1: f64,
}

/// `num / den`, or 0 when `den` is 0: scikit-learn's `_prf_divide` with `zero_division=0`.
fn divide(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// F1 from counts as scikit-learn 1.9 computes it: `(1 + β²)·tp / (β²·support + predicted)`
/// with β = 1, in floating point (so no integer overflow); 0 when the denominator is 0.
fn f1(tp: u64, support: u64, predicted: u64) -> f64 {
    let den = support as f64 + predicted as f64;
    if den == 0.0 {
        0.0
    } else {
        2.0 * tp as f64 / den
    }
}

/// The share of examples predicted correctly (`accuracy_score`).
pub fn accuracy(cm: &ConfusionMatrix) -> f64 {
    cm.correct() as f64 / cm.total() as f64
}

/// Per-class scores in class order, as `precision_recall_fscore_support(average=None,
/// labels=labels, zero_division=0)`.
///
/// F1 is taken straight from the counts, `2·tp / (2·tp + fp + fn)` — scikit-learn 1.9
/// computes `(1 + β²)·tp / (β²·true_sum + pred_sum)`, not the harmonic mean of the rounded
/// precision and recall — so it is 0 only when the class is neither present nor predicted
/// or has no true positive.
pub fn per_class(cm: &ConfusionMatrix) -> Vec<ClassScores> {
    (0..cm.n_classes())
        .map(|k| {
            let tp = cm.true_positives(k);
            let support = cm.support(k);
            let predicted = cm.predicted(k);
            ClassScores {
                precision: divide(tp, predicted),
                recall: divide(tp, support),
                f1: f1(tp, support, predicted),
                support,
            }
        })
        .collect()
}

/// The unweighted mean over all classes, zero-support classes included (`average='macro'`
/// with `labels=` listing every class).
pub fn macro_average(scores: &[ClassScores]) -> Averaged {
    let n = scores.len().max(1) as f64;
    Averaged {
        precision: scores.iter().map(|s| s.precision).sum::<f64>() / n,
        recall: scores.iter().map(|s| s.recall).sum::<f64>() / n,
        f1: scores.iter().map(|s| s.f1).sum::<f64>() / n,
    }
}

/// The support-weighted mean (`average='weighted'`, i.e. `np.average(x, weights=support)`);
/// all zeros when the total support is 0.
pub fn weighted_average(scores: &[ClassScores]) -> Averaged {
    let total: u64 = scores.iter().map(|s| s.support).sum();
    if total == 0 {
        return Averaged {
            precision: 0.0,
            recall: 0.0,
            f1: 0.0,
        };
    }
    let total = total as f64;
    let weighted = |f: fn(&ClassScores) -> f64| {
        scores.iter().map(|s| f(s) * s.support as f64).sum::<f64>() / total
    };
    Averaged {
        precision: weighted(|s| s.precision),
        recall: weighted(|s| s.recall),
        f1: weighted(|s| s.f1),
    }
}

/// Scores from the counts summed over classes (`average='micro'`).
///
/// With every class listed, summed tp+fp and tp+fn both equal the number of examples, so
/// all three equal the accuracy; they are still computed the scikit-learn way.
pub fn micro_average(cm: &ConfusionMatrix) -> Averaged {
    let k = cm.n_classes();
    let tp: u64 = (0..k).map(|c| cm.true_positives(c)).sum();
    let predicted: u64 = (0..k).map(|c| cm.predicted(c)).sum();
    let support: u64 = (0..k).map(|c| cm.support(c)).sum();
    Averaged {
        precision: divide(tp, predicted),
        recall: divide(tp, support),
        f1: f1(tp, support, predicted),
    }
}

/// `balanced_accuracy_score`: the mean recall over the classes that occur in `y_true`.
///
/// scikit-learn divides the diagonal by the row sums and drops the NaNs of classes without
/// true examples (those only predicted, or in neither), so such classes do not count;
/// `None` if no class has support (impossible for a non-empty matrix).
pub fn balanced_accuracy(cm: &ConfusionMatrix) -> Option<f64> {
    let recalls: Vec<f64> = (0..cm.n_classes())
        .filter(|&k| cm.support(k) > 0)
        .map(|k| cm.true_positives(k) as f64 / cm.support(k) as f64)
        .collect();
    if recalls.is_empty() {
        None
    } else {
        Some(recalls.iter().sum::<f64>() / recalls.len() as f64)
    }
}

/// `matthews_corrcoef`: the multiclass (Gorodkin) correlation from the confusion matrix.
///
/// Follows scikit-learn's formula `cov(t,p) / sqrt(cov(p,p)·cov(t,t))` with
/// `cov(t,p) = correct·n − Σ t_k p_k`, `cov(p,p) = n² − Σ p_k²`, `cov(t,t) = n² − Σ t_k²`
/// in float64, and, like scikit-learn, returns 0.0 (not undefined) when the denominator is 0.
pub fn mcc(cm: &ConfusionMatrix) -> f64 {
    let k = cm.n_classes();
    let t: Vec<f64> = (0..k).map(|c| cm.support(c) as f64).collect();
    let p: Vec<f64> = (0..k).map(|c| cm.predicted(c) as f64).collect();
    let n_correct = cm.correct() as f64;
    let n = p.iter().sum::<f64>();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let cov_ytyp = n_correct * n - dot(&t, &p);
    let cov_ypyp = n * n - dot(&p, &p);
    let cov_ytyt = n * n - dot(&t, &t);
    let den = cov_ypyp * cov_ytyt;
    if den == 0.0 {
        0.0
    } else {
        cov_ytyp / den.sqrt()
    }
}

/// `cohen_kappa_score` without weights: `1 − Σ_{i≠j} C_ij / Σ_{i≠j} E_ij` with the expected
/// matrix `E = outer(column sums, row sums) / n`, exactly as scikit-learn computes it.
///
/// `None` when `Σ_{i≠j} E_ij` is 0 — every example in one class on both sides — where
/// scikit-learn warns and returns its `replace_undefined_by=np.nan`.
pub fn cohen_kappa(cm: &ConfusionMatrix) -> Option<f64> {
    let k = cm.n_classes();
    let sum0: Vec<f64> = (0..k).map(|c| cm.predicted(c) as f64).collect();
    let sum1: Vec<f64> = (0..k).map(|c| cm.support(c) as f64).collect();
    let n = sum0.iter().sum::<f64>();
    if n == 0.0 {
        return None;
    }
    let mut observed = 0.0;
    let mut expected = 0.0;
    for (i, (row, &pred_i)) in cm.counts().iter().zip(&sum0).enumerate() {
        for (j, (&count, &true_j)) in row.iter().zip(&sum1).enumerate() {
            if i != j {
                observed += count as f64;
                expected += pred_i * true_j / n;
            }
        }
    }
    if expected == 0.0 {
        None
    } else {
        Some(1.0 - observed / expected)
    }
}

/// Per-class specificity tn / (tn + fp), 0 when the class covers every example — as
/// imbalanced-learn's `specificity_score(average=None, labels=labels)`.
pub fn specificity(cm: &ConfusionMatrix) -> Vec<f64> {
    let n = cm.total();
    (0..cm.n_classes())
        .map(|k| {
            let negatives = n - cm.support(k);
            let false_positives = cm.predicted(k) - cm.true_positives(k);
            divide(negatives - false_positives, negatives)
        })
        .collect()
}

/// imbalanced-learn's `geometric_mean_score(average='multiclass', labels=labels)`: the
/// geometric mean of the per-class recalls, computed as SciPy's `gmean` does
/// (`exp(mean(log r))`).
///
/// A recall of 0 — including the 0 of a class without true examples (`_prf_divide`) — makes
/// the result 0, because imbalanced-learn's default `correction=0.0` replaces zero recalls by 0.
pub fn geometric_mean(cm: &ConfusionMatrix) -> f64 {
    let recalls: Vec<f64> = (0..cm.n_classes())
        .map(|k| divide(cm.true_positives(k), cm.support(k)))
        .collect();
    if recalls.is_empty() || recalls.contains(&0.0) {
        return 0.0;
    }
    let mean_log = recalls.iter().map(|r| r.ln()).sum::<f64>() / recalls.len() as f64;
    mean_log.exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(y_true: &[usize], y_pred: &[usize], k: usize) -> ConfusionMatrix {
        ConfusionMatrix::from_indices(y_true, y_pred, k).unwrap()
    }

    // Reference values from scikit-learn 1.9.1 / imbalanced-learn 0.14.2:
    // y_true=[0,0,0,1,1,2], y_pred=[0,1,0,1,2,2], labels=[0,1,2,3]
    #[test]
    fn matches_scikit_learn_on_a_small_case() {
        let m = cm(&[0, 0, 0, 1, 1, 2], &[0, 1, 0, 1, 2, 2], 4);
        let scores = per_class(&m);
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        // precision_recall_fscore_support(..., labels=[0,1,2,3], zero_division=0)
        close(scores[0].precision, 1.0);
        close(scores[1].precision, 0.5);
        close(scores[2].precision, 0.5);
        close(scores[3].precision, 0.0);
        close(scores[0].recall, 2.0 / 3.0);
        close(scores[1].recall, 0.5);
        close(scores[2].recall, 1.0);
        close(scores[0].f1, 0.8);
        close(scores[1].f1, 0.5);
        close(scores[2].f1, 2.0 / 3.0);
        assert_eq!(scores[3].support, 0);
        close(macro_average(&scores).f1, 0.4916666666666667);
        close(weighted_average(&scores).f1, 0.6777777777777779);
        close(accuracy(&m), 4.0 / 6.0);
        // balanced_accuracy_score drops class 3 (no support): mean(2/3, 1/2, 1)
        close(balanced_accuracy(&m).unwrap(), 0.7222222222222222);
        close(mcc(&m), 0.5222329678670935);
        close(cohen_kappa(&m).unwrap(), 0.5);
        // geometric_mean_score(average='multiclass', labels=[0,1,2,3]): class 3 has recall 0
        close(geometric_mean(&m), 0.0);
        let m3 = cm(&[0, 0, 0, 1, 1, 2], &[0, 1, 0, 1, 2, 2], 3);
        close(geometric_mean(&m3), 0.6933612743506347);
        // specificity_score(average=None, labels=[0,1,2,3])
        let spe = specificity(&m);
        close(spe[0], 1.0);
        close(spe[1], 0.75);
        close(spe[2], 0.8);
        close(spe[3], 1.0);
    }

    #[test]
    fn degenerate_matrices_follow_scikit_learn_conventions() {
        // Everything in one class on both sides: sklearn's MCC is 0.0, kappa is NaN.
        let m = cm(&[1, 1, 1], &[1, 1, 1], 2);
        assert_eq!(mcc(&m), 0.0);
        assert_eq!(cohen_kappa(&m), None);
        assert_eq!(balanced_accuracy(&m), Some(1.0));
        assert_eq!(geometric_mean(&m), 0.0);
        assert_eq!(specificity(&m), vec![1.0, 0.0]);
        // One class only in the label map.
        let m = cm(&[0, 0], &[0, 0], 1);
        assert_eq!(accuracy(&m), 1.0);
        assert_eq!(geometric_mean(&m), 1.0);
        assert_eq!(cohen_kappa(&m), None);
    }
}
