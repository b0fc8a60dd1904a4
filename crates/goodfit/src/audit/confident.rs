//! Confident learning (Northcutt, Jiang & Chuang, JAIR 2021): which examples are probably
//! mislabelled, from out-of-fold predicted probabilities.
//!
//! This is cleanlab 2.x's `cleanlab.filter.find_label_issues` with its defaults
//! (`filter_by='prune_by_noise_rate'`, `min_examples_per_class=1`, `frac_noise=1`) and the
//! issues ranked by self-confidence (`return_indices_ranked_by='self_confidence'`), step
//! for step, so that the flagged set and its order equal cleanlab's (the test
//! `tests/cleanlab_reference.rs` checks both on a fixture written by
//! `scripts/make_cleanlab_fixture.py`). No crate implements it; the steps, in cleanlab's
//! names:
//! 1. per-class thresholds (`get_confident_thresholds`): the mean probability of class k
//!    over the rows labelled k;
//! 2. the confident joint (`compute_confident_joint`): each row whose probability reaches
//!    some class's threshold counts under (given label, that class — the likeliest when
//!    several do), the diagonal at least 1, then calibrated so that each row sums to its
//!    label's count and rounded preserving the row totals;
//! 3. the prune counts (`_keep_at_least_n_per_class`): the transposed joint with each
//!    class keeping at least one row, off-diagonal counts lowered to make room;
//! 4. per given label k and true label j, the `count[j][k]` rows labelled k with the
//!    largest margin p(j) − p(k) are flagged (`_prune_by_count`);
//! 5. a flagged row whose likeliest class is its label is cleared (`_reduce_issues`);
//! 6. the flagged rows sorted by self-confidence p(given label), least first.

/// cleanlab's `FLOATING_POINT_COMPARISON`.
const EPS: f64 = 1e-6;
/// cleanlab's `CONFIDENT_THRESHOLDS_LOWER_BOUND`.
const THRESHOLD_FLOOR: f64 = 2.0 * EPS;
/// The threshold of a class no row carries (cleanlab's `BIG_VALUE`): nothing reaches it.
const ABSENT_THRESHOLD: f64 = 2.0;
/// cleanlab's `TINY_VALUE`.
const TINY: f64 = 1e-100;

/// What confident learning finds in a labelled set.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelIssues {
    /// Rows probably mislabelled, the least self-confident first.
    pub ranked: Vec<usize>,
    /// Per row, the label-quality score: the probability of its given label
    /// (self-confidence; low means probably wrong).
    pub quality: Vec<f64>,
    /// Per row, the likeliest class: the suggested label.
    pub suggested: Vec<usize>,
    /// The calibrated confident joint, `[given][true]`: estimated counts of rows labelled
    /// `given` whose true class is `true`.
    pub confident_joint: Vec<Vec<i64>>,
}

/// Confident learning over `proba` (one row per example, `classes` probabilities each) and
/// the given `labels` (class indices).
pub fn find_label_issues(labels: &[usize], proba: &[Vec<f64>], classes: usize) -> LabelIssues {
    let joint = confident_joint(labels, proba, classes);
    let counts = label_counts(labels, classes);
    let prune = keep_at_least_one_per_class(&transpose(&joint));
    let mut flagged = vec![false; labels.len()];
    for k in 0..classes {
        let rows: Vec<usize> = (0..labels.len()).filter(|&r| labels[r] == k).collect();
        if counts[k] <= 1 {
            continue;
        }
        for (j, row) in prune.iter().enumerate() {
            let n = row[k];
            if j == k || n <= 0 {
                continue;
            }
            let margin = |r: usize| proba[r][j] - proba[r][k];
            let mut order = rows.clone();
            // numpy's argsort of −margin; ties cannot be ordered as its unstable sort
            // orders them, and continuous probabilities have none.
            order.sort_by(|&a, &b| margin(b).total_cmp(&margin(a)));
            for &r in order.iter().take(n as usize) {
                flagged[r] = true;
            }
        }
    }
    let suggested: Vec<usize> = proba.iter().map(|p| argmax(p)).collect();
    for (r, flag) in flagged.iter_mut().enumerate() {
        let mut p = proba[r].clone();
        p[labels[r]] += EPS;
        if argmax(&p) == labels[r] {
            *flag = false;
        }
    }
    let quality: Vec<f64> = (0..labels.len()).map(|r| proba[r][labels[r]]).collect();
    let mut ranked: Vec<usize> = (0..labels.len()).filter(|&r| flagged[r]).collect();
    ranked.sort_by(|&a, &b| quality[a].total_cmp(&quality[b]));
    LabelIssues {
        ranked,
        quality,
        suggested,
        confident_joint: joint,
    }
}

/// cleanlab's `compute_confident_joint` (calibrated), `[given][true]`.
pub fn confident_joint(labels: &[usize], proba: &[Vec<f64>], classes: usize) -> Vec<Vec<i64>> {
    let thresholds = thresholds(labels, proba, classes);
    let mut joint = vec![vec![0i64; classes]; classes];
    for (p, &given) in proba.iter().zip(labels) {
        let confident: Vec<usize> = (0..classes)
            .filter(|&c| p[c] >= thresholds[c] - EPS)
            .collect();
        let guess = match confident.as_slice() {
            [] => continue,
            [only] => *only,
            _ => argmax(p),
        };
        joint[given][guess] += 1;
    }
    for (c, row) in joint.iter_mut().enumerate() {
        row[c] = row[c].max(1);
    }
    calibrate(&joint, &label_counts(labels, classes))
}

/// The mean probability of each class over the rows given it, floored as cleanlab does.
fn thresholds(labels: &[usize], proba: &[Vec<f64>], classes: usize) -> Vec<f64> {
    (0..classes)
        .map(|k| {
            let of_k: Vec<f64> = labels
                .iter()
                .zip(proba)
                .filter(|(&l, _)| l == k)
                .map(|(_, p)| p[k])
                .collect();
            if of_k.is_empty() {
                ABSENT_THRESHOLD
            } else {
                (pairwise_sum(&of_k) / of_k.len() as f64).max(THRESHOLD_FLOOR)
            }
        })
        .collect()
}

/// numpy's pairwise summation (`np.mean` sums this way), so that the thresholds carry the
/// same last bits as cleanlab's: blocks of up to 128 summed with 8 accumulators, halves
/// above that.
fn pairwise_sum(x: &[f64]) -> f64 {
    const BLOCK: usize = 8;
    if x.len() < BLOCK {
        x.iter().fold(-0.0, |a, &b| a + b)
    } else if x.len() <= 128 {
        let mut r = [0.0; BLOCK];
        r.copy_from_slice(&x[..BLOCK]);
        let mut i = BLOCK;
        while i + BLOCK <= x.len() {
            for (j, acc) in r.iter_mut().enumerate() {
                *acc += x[i + j];
            }
            i += BLOCK;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &x[i..] {
            res += v;
        }
        res
    } else {
        let half = (x.len() / 2) / BLOCK * BLOCK;
        pairwise_sum(&x[..half]) + pairwise_sum(&x[half..])
    }
}

/// cleanlab's `calibrate_confident_joint`: each row scaled to its label's count, the whole
/// to the number of rows, rounded preserving the row totals.
fn calibrate(joint: &[Vec<i64>], counts: &[i64]) -> Vec<Vec<i64>> {
    let scaled: Vec<Vec<f64>> = joint
        .iter()
        .zip(counts)
        .map(|(row, &count)| {
            let sum = (row.iter().sum::<i64>() as f64).max(TINY);
            row.iter().map(|&v| v as f64 / sum * count as f64).collect()
        })
        .collect();
    let flat: Vec<f64> = scaled.iter().flatten().copied().collect();
    let total = pairwise_sum(&flat).max(TINY);
    let rows: f64 = counts.iter().sum::<i64>() as f64;
    scaled
        .iter()
        .map(|row| round_preserving_sum(&row.iter().map(|v| v / total * rows).collect::<Vec<_>>()))
        .collect()
}

/// cleanlab's `_keep_at_least_n_per_class` with n = 1 and `frac_noise` = 1, on the
/// transposed joint (`[true][given]`): each column's diagonal raised to at least 1, the
/// increase taken evenly from the column's other non-zero counts, truncated to integers.
fn keep_at_least_one_per_class(prune: &[Vec<i64>]) -> Vec<Vec<i64>> {
    let k = prune.len();
    let mut out = vec![vec![0i64; k]; k];
    for col in 0..k {
        let diagonal = prune[col][col];
        let raised = diagonal.max(1);
        let nonzero = (0..k).filter(|&r| prune[r][col] != 0).count() as f64;
        let per = (raised - diagonal) as f64 / (nonzero - 1.0).max(1.0);
        for row in 0..k {
            out[row][col] = if row == col {
                raised
            } else {
                // numpy's astype(int) truncates toward zero; negatives were set to 0.
                (prune[row][col] as f64 - per).max(0.0).trunc() as i64
            };
        }
    }
    out
}

/// cleanlab's `round_preserving_sum`: numpy's rounding (half to even), then the
/// difference to the rounded total given back one by one, largest remainders first.
fn round_preserving_sum(floats: &[f64]) -> Vec<i64> {
    let mut ints: Vec<f64> = floats.iter().map(|v| v.round_ties_even()).collect();
    let target = pairwise_sum(floats).round_ties_even();
    let mut sum = ints.iter().sum::<f64>().round_ties_even();
    while (sum - target).abs() > EPS {
        let diff = (target - sum).round_ties_even();
        let step = if diff < 0.0 { -1.0 } else { 1.0 };
        let changes = (diff.abs() as usize).min(floats.len());
        // np.argsort, reversed when rounding up. Of equal remainders (two classes with
        // the same count of confident rows) the later gets the change first when rounding
        // up, as numpy's insertion sort for so few values orders them; numpy 2 on a
        // processor with AVX2 or AVX-512 sorts them with an unstable SIMD network instead,
        // so cleanlab's own result on such ties depends on the processor (the fixture has
        // none).
        let mut order: Vec<usize> = (0..floats.len()).collect();
        order.sort_by(|&a, &b| (floats[a] - ints[a]).total_cmp(&(floats[b] - ints[b])));
        if step > 0.0 {
            order.reverse();
        }
        for &i in order.iter().take(changes) {
            ints[i] += step;
        }
        sum = ints.iter().sum::<f64>().round_ties_even();
    }
    ints.iter().map(|&v| v as i64).collect()
}

fn label_counts(labels: &[usize], classes: usize) -> Vec<i64> {
    let mut counts = vec![0i64; classes];
    for &l in labels {
        counts[l] += 1;
    }
    counts
}

fn transpose(m: &[Vec<i64>]) -> Vec<Vec<i64>> {
    (0..m.len())
        .map(|c| m.iter().map(|row| row[c]).collect())
        .collect()
}

/// The first index of the largest value (numpy's argmax).
fn argmax(p: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in p.iter().enumerate() {
        if v > p[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_keeps_the_row_total_and_rounds_half_to_even() {
        assert_eq!(round_preserving_sum(&[0.5, 1.5, 2.0]), [0, 2, 2]);
        // 0.4 + 0.4 + 0.4 = 1.2 → 1: of equal remainders the last rounds up.
        assert_eq!(round_preserving_sum(&[0.4, 0.4, 0.4]), [0, 0, 1]);
        // 7 rounds to 6: the first of the equal remainders (−0.4) gives one back.
        assert_eq!(round_preserving_sum(&[2.6, 2.6, 0.8]), [2, 3, 1]);
    }

    #[test]
    fn pairwise_summation_equals_a_plain_sum_on_exact_values() {
        let x: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        assert_eq!(pairwise_sum(&x), 499_500.0);
        assert_eq!(pairwise_sum(&[1.0, 2.0]), 3.0);
    }

    #[test]
    fn a_confidently_contradicted_label_is_flagged_and_suggested() {
        // Rows 0–4 labelled 0, rows 5–9 labelled 1; row 4 looks like class 1.
        let labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
        let mut proba = vec![vec![0.9, 0.1]; 5];
        proba.extend(vec![vec![0.15, 0.85]; 5]);
        proba[4] = vec![0.05, 0.95];
        let found = find_label_issues(&labels, &proba, 2);
        assert_eq!(found.ranked, [4]);
        assert_eq!(found.suggested[4], 1);
        assert!((found.quality[4] - 0.05).abs() < 1e-12);
    }
}
