//! Probability metrics: log-loss, Brier score and expected calibration error.
//!
//! All take class-index targets and a probability matrix with one row per example and one
//! column per class, in label order. Entries must lie in `[0, 1]` (scikit-learn raises
//! otherwise); rows need not sum to 1 and are never renormalised — scikit-learn 1.9 only
//! warns about such rows.

use crate::error::Result;

use super::validate;

/// The number of equal-width confidence bins of [`ece`], as in Guo et al. (2017).
pub const ECE_BINS: usize = 15;

/// `log_loss(y_true, proba, labels=labels)` of scikit-learn 1.9: the mean over examples of
/// `−ln p`, where `p` is the probability given to the true class.
///
/// scikit-learn 1.9.1 (`_log_loss`) clips every probability to `[eps, 1 − eps]` with
/// `eps = np.finfo(float64).eps` (2.22e-16), so a probability of 0 for the true class costs
/// `−ln(eps) ≈ 36.04` rather than infinity; it does not renormalise rows. `None` with fewer
/// than two classes, where scikit-learn raises ("needs to contain at least two labels").
pub fn log_loss(y_true: &[usize], proba: &[Vec<f64>], n_classes: usize) -> Result<Option<f64>> {
    validate::check_true(y_true, n_classes)?;
    validate::check_proba(proba, y_true.len(), n_classes)?;
    if n_classes < 2 {
        return Ok(None);
    }
    let eps = f64::EPSILON;
    let total: f64 = y_true
        .iter()
        .zip(proba)
        .map(|(&t, row)| -row[t].clamp(eps, 1.0 - eps).ln())
        .sum();
    Ok(Some(total / y_true.len() as f64))
}

/// The Brier score of a binary problem: `brier_score_loss(y_true == labels[1], proba[:, 1])`,
/// the mean squared difference between the positive-class probability and the 0/1 outcome.
///
/// scikit-learn 1.9 stacks a 1-D input into `[1 − p, p]`, sums the squared errors of both
/// columns and, because `scale_by_half='auto'` is true for binary input, halves the result —
/// which is the usual mean squared error; the same steps are followed here. It is defined
/// even when `y_true` holds one class only (scikit-learn returns a number there too).
/// `None` unless there are exactly two classes: for multiclass input scikit-learn's default
/// would switch to the unhalved multiclass Brier score, which is not reported.
pub fn brier(y_true: &[usize], proba: &[Vec<f64>], n_classes: usize) -> Result<Option<f64>> {
    validate::check_true(y_true, n_classes)?;
    validate::check_proba(proba, y_true.len(), n_classes)?;
    if n_classes != 2 {
        return Ok(None);
    }
    let total: f64 = y_true
        .iter()
        .zip(proba)
        .map(|(&t, row)| {
            let positive = if t == 1 { 1.0 } else { 0.0 };
            let p = row[1];
            let negative_error = (1.0 - positive) - (1.0 - p);
            let positive_error = positive - p;
            negative_error * negative_error + positive_error * positive_error
        })
        .sum();
    Ok(Some(total / y_true.len() as f64 * 0.5))
}

/// The index of the largest entry, the first one on ties (as `numpy.argmax`).
fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &p) in row.iter().enumerate() {
        if p > row[best] {
            best = i;
        }
    }
    best
}

/// Expected calibration error with [`ECE_BINS`] equal-width bins on the top-label
/// confidence (Guo et al., "On Calibration of Modern Neural Networks", 2017).
///
/// Each example's confidence is its largest probability and its prediction the first class
/// holding it. Bin `b` holds confidences in `(b/15, (b+1)/15]` — bounds computed as
/// `numpy.linspace(0, 1, 16)` computes them — and
/// `ECE = Σ_b |accuracy_b − mean confidence_b| · n_b / n`, where `accuracy_b` is the share
/// of the bin's examples whose prediction is the true class. A confidence of exactly 0 (a
/// row of zeros) falls in no bin but still counts in `n`, as in the reference implementation.
/// scikit-learn has no ECE; the unit tests check it against NumPy.
pub fn ece(y_true: &[usize], proba: &[Vec<f64>], n_classes: usize) -> Result<f64> {
    validate::check_true(y_true, n_classes)?;
    validate::check_proba(proba, y_true.len(), n_classes)?;
    // numpy.linspace(0, 1, 16): i * (1/15), with the last bound set to exactly 1.
    let step = 1.0 / ECE_BINS as f64;
    let bounds: Vec<f64> = (0..=ECE_BINS)
        .map(|i| if i == ECE_BINS { 1.0 } else { i as f64 * step })
        .collect();
    let mut count = [0u64; ECE_BINS];
    let mut correct = [0u64; ECE_BINS];
    let mut confidence_sum = [0.0f64; ECE_BINS];
    for (&t, row) in y_true.iter().zip(proba) {
        let predicted = argmax(row);
        let confidence = row[predicted];
        if let Some(b) =
            (0..ECE_BINS).find(|&b| confidence > bounds[b] && confidence <= bounds[b + 1])
        {
            count[b] += 1;
            confidence_sum[b] += confidence;
            if predicted == t {
                correct[b] += 1;
            }
        }
    }
    let n = y_true.len() as f64;
    let mut total = 0.0;
    for b in 0..ECE_BINS {
        if count[b] > 0 {
            let accuracy = correct[b] as f64 / count[b] as f64;
            let mean_confidence = confidence_sum[b] / count[b] as f64;
            total += (mean_confidence - accuracy).abs() * (count[b] as f64 / n);
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    // sklearn 1.9.1: log_loss([0, 1, 1], [[.2, .2], [.5, .9], [0., 1.]], labels=[0, 1])
    // = 0.5715994760306423 (no renormalisation of the first two rows; 1.0 is clipped to 1-eps).
    #[test]
    fn log_loss_clips_and_does_not_renormalise() {
        let proba = vec![vec![0.2, 0.2], vec![0.5, 0.9], vec![0.0, 1.0]];
        close(
            log_loss(&[0, 1, 1], &proba, 2).unwrap().unwrap(),
            0.5715994760306423,
        );
        // log_loss([0, 1], [[0, 1], [1, 0]], labels=[0, 1]) = -ln(eps)
        let wrong = vec![vec![0.0, 1.0], vec![1.0, 0.0]];
        close(
            log_loss(&[0, 1], &wrong, 2).unwrap().unwrap(),
            36.04365338911715,
        );
        assert_eq!(log_loss(&[0], &[vec![1.0]], 1).unwrap(), None);
    }

    // sklearn 1.9.1: brier_score_loss(np.array([0,0,0]) == 1, [.1, .2, .7]) = 0.17999999999999997
    // and brier_score_loss([False, True, False], [.1, .2, .7]) = 0.38000000000000006.
    #[test]
    fn brier_is_the_binary_mean_squared_error() {
        let proba = vec![vec![0.9, 0.1], vec![0.8, 0.2], vec![0.3, 0.7]];
        close(
            brier(&[0, 0, 0], &proba, 2).unwrap().unwrap(),
            0.17999999999999997,
        );
        close(
            brier(&[0, 1, 0], &proba, 2).unwrap().unwrap(),
            0.38000000000000006,
        );
        let three = vec![vec![0.2, 0.3, 0.5]];
        assert_eq!(brier(&[0], &three, 3).unwrap(), None);
    }

    // Worked by hand, and with the NumPy reference used by the fixture generator
    // (crates/goodfit/tests/fixtures/metrics_extra_generator.py, `ece`):
    //   conf = proba.max(1); pred = proba.argmax(1); edges = np.linspace(0, 1, 16)
    //   for lo, hi in zip(edges[:-1], edges[1:]):
    //       m = (conf > lo) & (conf <= hi)
    //       if m.any(): ece += abs(conf[m].mean() - (pred[m] == y[m]).mean()) * m.mean()
    // Confidences and bins: 0.9 in (13/15, 14/15], right → |0.9 − 1|·1/4 = 0.025;
    // 0.95 in (14/15, 1], wrong → 0.95·1/4 = 0.2375; 0.6 is exactly the bound 9/15 and so
    // in (8/15, 9/15], right → 0.4·1/4 = 0.1; 0.5 (a 0.5/0.5 tie: argmax is class 0) in
    // (7/15, 8/15], wrong → 0.5·1/4 = 0.125. Sum 0.4875 (NumPy: 0.4875).
    #[test]
    fn ece_matches_the_hand_computation() {
        let proba = vec![
            vec![0.1, 0.9],
            vec![0.95, 0.05],
            vec![0.4, 0.6],
            vec![0.5, 0.5],
        ];
        close(ece(&[1, 1, 1, 1], &proba, 2).unwrap(), 0.4875);
        // A perfectly calibrated certain model has ECE 0.
        let certain = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
        close(ece(&[0, 1], &certain, 2).unwrap(), 0.0);
        // A row of zeros is in no bin but still counts in n: only row 2 contributes
        // |1.0 − 1|·1/2 = 0.
        let zeros = vec![vec![0.0, 0.0], vec![0.0, 1.0]];
        close(ece(&[0, 1], &zeros, 2).unwrap(), 0.0);
        let zeros_wrong = vec![vec![0.0, 0.0], vec![0.0, 1.0]];
        close(ece(&[0, 0], &zeros_wrong, 2).unwrap(), 0.5);
    }

    #[test]
    fn bad_probabilities_are_errors() {
        assert!(log_loss(&[0], &[vec![1.2, 0.0]], 2).is_err());
        assert!(log_loss(&[0], &[vec![-0.1, 0.0]], 2).is_err());
        assert!(brier(&[0], &[vec![f64::NAN, 0.0]], 2).is_err());
        assert!(ece(&[0], &[vec![0.5, 0.5, 0.0]], 2).is_err());
        assert!(ece(&[0, 1], &[vec![0.5, 0.5]], 2).is_err());
        assert!(ece(&[], &[], 2).is_err());
    }
}
