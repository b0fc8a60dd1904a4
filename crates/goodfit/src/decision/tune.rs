//! Searching the decision rule that maximises an objective on validation data.
//!
//! Both cases are the same sweep. For class `c` and fixed offsets of the other classes, each
//! example switches to predicting `c` once `c`'s offset passes the example's margin (the
//! best other class's adjusted log-probability minus its own). Sorting the margins and
//! walking up them visits every distinct decision, updating the confusion matrix one example
//! at a time. Two classes need one sweep: the offset is a cut-off on p(positive), and the
//! candidates are every distinct score. More classes repeat the sweep class by class
//! (coordinate ascent) until no offset change improves the objective.

use crate::error::{Error, Result};

use super::objective::Scoring;
use super::rule::DecisionRule;

/// Rounds of coordinate ascent at most (each visits every class).
const MAX_ROUNDS: usize = 50;

/// A tuned rule and what it changed on the validation set.
#[derive(Debug, Clone)]
pub struct Tuned {
    /// The rule.
    pub rule: DecisionRule,
    /// The objective with plain argmax.
    pub before: f64,
    /// The objective with the rule.
    pub after: f64,
    /// Two classes: the objective at every candidate cut-off, `(cutoff, value)`, by rising
    /// cut-off. More classes: the objective after each accepted offset change,
    /// `(change, value)`, starting at `(0, before)`.
    pub curve: Vec<(f64, f64)>,
}

/// Finds the rule maximising `scoring` (minimising, for costs) on examples with
/// log-probabilities `log_proba` and true classes `targets`. `positive` is the class a
/// binary cut-off is put on.
pub fn tune(
    log_proba: &[Vec<f64>],
    targets: &[usize],
    scoring: &Scoring,
    positive: usize,
) -> Result<Tuned> {
    let k = log_proba.first().map_or(0, Vec::len);
    if log_proba.is_empty() || k < 2 {
        return Err(Error::Invalid(
            "cannot tune a decision rule without validation examples of two classes or more".into(),
        ));
    }
    let sign = if scoring.higher_is_better() {
        1.0
    } else {
        -1.0
    };
    let mut offsets = vec![0.0; k];
    let argmax = DecisionRule::Offsets {
        offsets: offsets.clone(),
    };
    let predicted: Vec<usize> = log_proba.iter().map(|lp| argmax.predict(lp)).collect();
    let before = scoring.value_of(targets, &predicted, k)?;
    if k == 2 {
        let negative = 1 - positive;
        let sweep = sweep(log_proba, targets, &offsets, positive, scoring, sign);
        // lp_pos + b > lp_neg  ⟺  logit(p_pos) > −b  ⟺  p_pos > σ(−b).
        let cutoff = |b: f64| 1.0 / (1.0 + b.exp());
        let mut curve: Vec<(f64, f64)> =
            sweep.points.iter().map(|&(b, v)| (cutoff(b), v)).collect();
        curve.reverse();
        offsets[positive] = sweep.best;
        debug_assert_eq!(offsets[negative], 0.0);
        return Ok(Tuned {
            rule: DecisionRule::Cutoff {
                positive,
                cutoff: cutoff(sweep.best),
            },
            before,
            after: sweep.value,
            curve,
        });
    }
    let mut current = before;
    let mut curve = vec![(0.0, before)];
    for _ in 0..MAX_ROUNDS {
        let mut improved = false;
        for c in 0..k {
            let sweep = sweep(log_proba, targets, &offsets, c, scoring, sign);
            if sign * (sweep.value - current) > 1e-12 {
                offsets[c] = sweep.best;
                current = sweep.value;
                curve.push((curve.len() as f64, current));
                improved = true;
            }
        }
        if !improved {
            break;
        }
    }
    // Offsets matter only relative to each other: centre them for reading.
    let mean = offsets.iter().sum::<f64>() / k as f64;
    Ok(Tuned {
        rule: DecisionRule::Offsets {
            offsets: offsets.iter().map(|o| o - mean).collect(),
        },
        before,
        after: current,
        curve,
    })
}

/// The outcome of sweeping one class's offset.
struct Sweep {
    /// The best offset.
    best: f64,
    /// The objective there.
    value: f64,
    /// Every candidate offset with its objective, by rising offset.
    points: Vec<(f64, f64)>,
}

/// Tries every distinct decision for class `c`'s offset with the others fixed. Candidates sit
/// halfway between consecutive distinct margins (and one unit beyond the extremes), so no
/// validation example lies exactly on the boundary. Among equally good offsets the one
/// nearest the current offset wins.
fn sweep(
    log_proba: &[Vec<f64>],
    targets: &[usize],
    offsets: &[f64],
    c: usize,
    scoring: &Scoring,
    sign: f64,
) -> Sweep {
    let k = offsets.len();
    // For each example: the best other class and the margin c's offset must pass.
    let mut rows: Vec<(f64, usize, usize)> = log_proba
        .iter()
        .zip(targets)
        .map(|(lp, &t)| {
            let other = (0..k)
                .filter(|&j| j != c)
                .fold(None::<usize>, |best, j| match best {
                    Some(b) if lp[b] + offsets[b] >= lp[j] + offsets[j] => Some(b),
                    _ => Some(j),
                })
                .expect("two classes or more");
            let margin = lp[other] + offsets[other] - lp[c];
            (margin, other, t)
        })
        .collect();
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Lowest offset: no example predicts c.
    let mut counts = vec![vec![0u64; k]; k];
    for &(_, other, t) in &rows {
        counts[t][other] += 1;
    }
    let first = rows.first().map_or(0.0, |r| r.0) - 1.0;
    let mut points = vec![(first, scoring.value(&counts))];
    let mut i = 0;
    while i < rows.len() {
        let margin = rows[i].0;
        while i < rows.len() && rows[i].0 == margin {
            let (_, other, t) = rows[i];
            counts[t][other] -= 1;
            counts[t][c] += 1;
            i += 1;
        }
        let candidate = rows.get(i).map_or(margin + 1.0, |r| (margin + r.0) / 2.0);
        points.push((candidate, scoring.value(&counts)));
    }
    let current = offsets[c];
    let (best, value) = points
        .iter()
        .copied()
        .reduce(|a, b| {
            let better = sign * (b.1 - a.1);
            if better > 1e-12
                || (better.abs() <= 1e-12 && (b.0 - current).abs() < (a.0 - current).abs())
            {
                b
            } else {
                a
            }
        })
        .expect("at least one candidate");
    Sweep {
        best,
        value,
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Label, LabelMap};
    use crate::decision::Objective;

    fn log_proba_binary(p: &[f64]) -> Vec<Vec<f64>> {
        p.iter().map(|&p| vec![(1.0 - p).ln(), p.ln()]).collect()
    }

    /// The best F1 over every cut-off, by brute force: predict 1 when p ≥ t for each score t.
    fn brute_force_f1(p: &[f64], y: &[usize]) -> f64 {
        p.iter()
            .map(|&t| {
                let pred: Vec<usize> = p.iter().map(|&q| usize::from(q >= t)).collect();
                let tp = pred
                    .iter()
                    .zip(y)
                    .filter(|&(&a, &b)| a == 1 && b == 1)
                    .count();
                let fp = pred
                    .iter()
                    .zip(y)
                    .filter(|&(&a, &b)| a == 1 && b == 0)
                    .count();
                let fneg = pred
                    .iter()
                    .zip(y)
                    .filter(|&(&a, &b)| a == 0 && b == 1)
                    .count();
                2.0 * tp as f64 / (2 * tp + fp + fneg) as f64
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn binary_cutoff_reaches_the_best_f1_over_every_distinct_score() {
        // A minority class scored low by an imbalanced model: argmax misses most of it.
        let p = [
            0.05, 0.1, 0.12, 0.2, 0.22, 0.3, 0.35, 0.4, 0.15, 0.25, 0.28, 0.33, 0.45, 0.6,
        ];
        let y = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
        let labels = LabelMap::from_ordered(vec![Label::Int(0), Label::Int(1)]);
        let scoring = Objective::F1.scoring(&labels, 1).unwrap();
        let tuned = tune(&log_proba_binary(&p), &y, &scoring, 1).unwrap();
        assert!((tuned.after - brute_force_f1(&p, &y)).abs() < 1e-12);
        assert!(tuned.after > tuned.before);
        // The rule reproduces the tuned value when applied.
        let pred: Vec<usize> = log_proba_binary(&p)
            .iter()
            .map(|lp| tuned.rule.predict(lp))
            .collect();
        let mut counts = vec![vec![0u64; 2]; 2];
        for (&t, &q) in y.iter().zip(&pred) {
            counts[t][q] += 1;
        }
        assert!((scoring.value(&counts) - tuned.after).abs() < 1e-12);
        let DecisionRule::Cutoff { cutoff, .. } = tuned.rule else {
            panic!("two classes give a cut-off")
        };
        assert!(cutoff < 0.5 && cutoff > 0.05, "{cutoff}");
        // One curve point per distinct score, plus the one predicting nothing positive.
        assert_eq!(tuned.curve.len(), p.len() + 1);
        assert!(tuned.curve.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn multiclass_offsets_raise_balanced_accuracy_and_never_lower_it() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // Three classes, 200/40/10, with scores biased toward class 0.
        let mut log_proba = Vec::new();
        let mut y = Vec::new();
        for (class, n) in [(0usize, 200), (1, 40), (2, 10)] {
            for _ in 0..n {
                let mut z: Vec<f64> = (0..3).map(|_| rng.random::<f64>()).collect();
                z[class] += 0.6;
                z[0] += 0.5;
                let lse = z.iter().map(|v| v.exp()).sum::<f64>().ln();
                log_proba.push(z.iter().map(|v| v - lse).collect());
                y.push(class);
            }
        }
        let labels = LabelMap::from_ordered((0..3).map(Label::Int).collect());
        let scoring = Objective::BalancedAccuracy.scoring(&labels, 0).unwrap();
        let tuned = tune(&log_proba, &y, &scoring, 0).unwrap();
        assert!(
            tuned.after > tuned.before + 0.1,
            "{} -> {}",
            tuned.before,
            tuned.after
        );
        let pred: Vec<usize> = log_proba.iter().map(|lp| tuned.rule.predict(lp)).collect();
        let mut counts = vec![vec![0u64; 3]; 3];
        for (&t, &q) in y.iter().zip(&pred) {
            counts[t][q] += 1;
        }
        assert!((scoring.value(&counts) - tuned.after).abs() < 1e-12);
        assert!(tuned.curve.windows(2).all(|w| w[1].1 > w[0].1));
    }
}
