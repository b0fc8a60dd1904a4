//! What the predicted probabilities are worth: precision-recall curves (how well they rank)
//! and reliability diagrams (whether 80% confident means right 80% of the time).

use super::blocks::{figure, grid, note};
use super::charts::{self, Axis, Key, Pen, BLUE, MUTED, RED};
use super::format::{esc, num};
use super::run::{Optional, Predictions, Run};

/// Bins of the reliability diagram (and of goodfit's ECE).
const BINS: usize = 15;

/// The "Probabilities" section's body, or `None` when the run has no prediction files.
pub fn section(run: &Run) -> Option<String> {
    let sets = [
        ("validation", &run.predictions_val),
        ("test", &run.predictions_test),
    ];
    if sets.iter().all(|(_, p)| matches!(p, Optional::Absent)) {
        return None;
    }
    let mut notes = String::new();
    let mut curves = Vec::new();
    let mut diagrams = Vec::new();
    for (set, predictions) in sets {
        match predictions {
            Optional::Present(p) => {
                curves.push(pr_figure(set, p));
                diagrams.push(reliability_figure(set, p));
            }
            Optional::Unreadable(why) => notes.push_str(&note(why)),
            Optional::Absent => {}
        }
    }
    curves.extend(diagrams);
    Some(format!("{notes}{}", grid(&curves)))
}

/// One precision-recall curve: points in order of falling threshold, and the average
/// precision (scikit-learn's step-wise sum, no interpolation).
#[derive(Debug, Clone, PartialEq)]
pub struct PrCurve {
    /// `(recall, precision)` from the highest threshold down, starting at `(0, 1)`.
    pub points: Vec<(f64, f64)>,
    /// Σ (Rₙ − Rₙ₋₁) Pₙ.
    pub average_precision: f64,
    /// The share of positives: a random ranking's precision.
    pub prevalence: f64,
}

/// The precision-recall curve of `scores` for the examples where `positive` is true;
/// `None` without a positive example.
pub fn pr_curve(scores: &[f64], positive: &[bool]) -> Option<PrCurve> {
    let total_pos = positive.iter().filter(|p| **p).count();
    if total_pos == 0 || scores.len() != positive.len() {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut points = vec![(0.0, 1.0)];
    let (mut tp, mut fp, mut ap, mut last_recall) = (0usize, 0usize, 0.0, 0.0);
    for (rank, &i) in order.iter().enumerate() {
        if positive[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        // Tied scores share one threshold: only the last of a tie makes a point.
        let tie_continues = order
            .get(rank + 1)
            .is_some_and(|&next| scores[next] == scores[i]);
        if tie_continues {
            continue;
        }
        let recall = tp as f64 / total_pos as f64;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - last_recall) * precision;
        last_recall = recall;
        points.push((recall, precision));
    }
    Some(PrCurve {
        points,
        average_precision: ap,
        prevalence: total_pos as f64 / scores.len() as f64,
    })
}

fn pr_figure(set: &str, p: &Predictions) -> String {
    // Binary: the second class is the positive one, as in the metrics; else one-vs-rest.
    let classes: Vec<usize> = if p.labels.len() == 2 {
        vec![1]
    } else {
        (0..p.labels.len()).collect()
    };
    let curves: Vec<(usize, PrCurve)> = classes
        .iter()
        .filter_map(|&k| {
            let scores: Vec<f64> = p.proba.iter().map(|row| row[k]).collect();
            let positive: Vec<bool> = p.y_true.iter().map(|&y| y == k).collect();
            pr_curve(&scores, &positive).map(|c| (k, c))
        })
        .collect();
    if curves.is_empty() {
        return figure(
            &note("No class has a positive example here, so there is no curve to draw."),
            &format!("<b>Precision-recall, {}.</b>", esc(set)),
            false,
        );
    }
    let x = Axis::unit("recall");
    let y = Axis::unit("precision");
    let binary = p.labels.len() == 2;
    let names: Vec<(String, plotters::style::RGBColor)> = curves
        .iter()
        .enumerate()
        .map(|(i, (k, curve))| {
            let color = if binary {
                BLUE
            } else {
                charts::series_color(i)
            };
            let name = format!(
                "{} (AP {})",
                super::format::truncate(&p.labels[*k], 16),
                num(round3(curve.average_precision))
            );
            (name, color)
        })
        .collect();
    let svg = charts::svg(
        500,
        340,
        &format!("Precision-recall curves, {set}"),
        |root| {
            let mut keys: Vec<(&str, Key)> = names
                .iter()
                .map(|(name, color)| (name.as_str(), Key::Line(*color, false)))
                .collect();
            if binary {
                keys.push(("chance", Key::Line(MUTED, true)));
            }
            let area = charts::key_row(root, &keys)?;
            let mut chart = charts::plane(&area, &x, &y)?;
            if let (true, Some((_, curve))) = (binary, curves.first()) {
                let base = Pen {
                    color: MUTED,
                    dashed: true,
                    dots: false,
                };
                let level = [(0.0, Some(curve.prevalence)), (1.0, Some(curve.prevalence))];
                charts::line(&mut chart, &level, base)?;
            }
            for ((_, curve), (_, color)) in curves.iter().zip(&names) {
                let points: Vec<(f64, Option<f64>)> =
                    curve.points.iter().map(|&(r, pr)| (r, Some(pr))).collect();
                let pen = Pen {
                    color: *color,
                    dashed: false,
                    dots: false,
                };
                charts::line(&mut chart, &points, pen)?;
            }
            Ok(())
        },
    );
    let caption = if binary {
        format!(
            "<b>Precision-recall, {}</b>, with <b>{}</b> as the positive class: each point \
             is one threshold on its probability. AP is the average precision; the dashed \
             line is what a random ranking reaches.",
            esc(set),
            esc(&p.labels[1])
        )
    } else {
        format!(
            "<b>Precision-recall, {}</b>, one class against the rest for each class. AP is \
             the average precision; a curve that drops early marks a class the model ranks \
             poorly.",
            esc(set)
        )
    };
    figure(&svg, &caption, false)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// One bin of the reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bin {
    /// Lower edge.
    pub lo: f64,
    /// Upper edge.
    pub hi: f64,
    /// Examples whose top-label confidence falls in the bin.
    pub count: usize,
    /// Their mean confidence.
    pub confidence: f64,
    /// The share of them predicted correctly.
    pub accuracy: f64,
}

/// The `i`-th of the 16 bin bounds (`numpy.linspace(0, 1, 16)`).
fn bound(i: usize) -> f64 {
    if i >= BINS {
        1.0
    } else {
        i as f64 / BINS as f64
    }
}

/// 15 equal-width bins of top-label confidence, and the expected calibration error
/// Σ nᵦ/N · |accuracyᵦ − confidenceᵦ| (N counts every example, as the metrics' ECE does).
pub fn reliability(p: &Predictions) -> (Vec<Bin>, f64) {
    let mut sums = vec![(0usize, 0.0f64, 0usize); BINS];
    for (row, &y) in p.proba.iter().zip(&p.y_true) {
        let (top, confidence) =
            row.iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |best, (k, &v)| {
                    if v > best.1 {
                        (k, v)
                    } else {
                        best
                    }
                });
        // Right-closed bins (b/15, (b+1)/15] with numpy.linspace's bounds, exactly as the
        // metrics' ECE bins them, so the diagram's ECE is the reported one.
        let Some(b) = (0..BINS).find(|&b| confidence > bound(b) && confidence <= bound(b + 1))
        else {
            continue;
        };
        sums[b].0 += 1;
        sums[b].1 += confidence;
        sums[b].2 += usize::from(top == y);
    }
    let n = p.y_true.len().max(1) as f64;
    let mut ece = 0.0;
    let bins = sums
        .iter()
        .enumerate()
        .map(|(b, &(count, conf, correct))| {
            let (confidence, accuracy) = if count > 0 {
                (conf / count as f64, correct as f64 / count as f64)
            } else {
                (0.0, 0.0)
            };
            ece += count as f64 / n * (accuracy - confidence).abs();
            Bin {
                lo: bound(b),
                hi: bound(b + 1),
                count,
                confidence,
                accuracy,
            }
        })
        .collect();
    (bins, ece)
}

fn reliability_figure(set: &str, p: &Predictions) -> String {
    let (bins, ece) = reliability(p);
    let x = Axis::unit("");
    let y = Axis::unit("accuracy");
    let counts_y = Axis::values_with_ticks(bins.iter().map(|b| b.count as f64), true, "count", 2);
    let counts_x = Axis::unit("top-label confidence");
    let svg = charts::svg(500, 420, &format!("Reliability diagram, {set}"), |root| {
        let keys = [
            ("accuracy", Key::Swatch(BLUE)),
            ("at mean confidence", Key::Line(RED, false)),
            ("perfect calibration", Key::Line(MUTED, true)),
        ];
        let area = charts::key_row(root, &keys)?;
        let (upper, lower) = area.split_vertically(265);
        let mut chart = charts::plane(&upper, &x, &y)?;
        let gap = 0.004;
        let filled: Vec<&Bin> = bins.iter().filter(|b| b.count > 0).collect();
        charts::bars(
            &mut chart,
            filled
                .iter()
                .map(|b| ((b.lo + gap, 0.0), (b.hi - gap, b.accuracy), BLUE)),
        )?;
        // Over the bars, so the gap between each bar and the diagonal shows.
        charts::diagonal(&mut chart)?;
        let pen = Pen {
            color: RED,
            dashed: false,
            dots: true,
        };
        let points: Vec<(f64, Option<f64>)> = filled
            .iter()
            .map(|b| (b.confidence, Some(b.accuracy)))
            .collect();
        charts::line(&mut chart, &points, pen)?;
        let mut counts = charts::plane(&lower, &counts_x, &counts_y)?;
        charts::bars(
            &mut counts,
            filled.iter().map(|b| {
                (
                    (b.lo + gap, 0.0),
                    (b.hi - gap, b.count as f64),
                    charts::series_color(4),
                )
            }),
        )?;
        Ok(())
    });
    let caption = format!(
        "<b>Reliability, {}</b> ({} examples): accuracy against top-label confidence in {BINS} \
         equal bins, with the number of examples per bin below. Bars under the diagonal are \
         over-confident, above it under-confident. ECE = <b>{}</b>.",
        esc(set),
        num(p.y_true.len() as f64),
        num(ece)
    );
    figure(&svg, &caption, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_precision_matches_scikit_learn() {
        // sklearn.metrics.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
        // = 0.8333…
        let c = pr_curve(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]).unwrap();
        assert!((c.average_precision - 0.8333333333333333).abs() < 1e-12);
        assert_eq!(c.points.first(), Some(&(0.0, 1.0)));
        assert_eq!(c.points.last(), Some(&(1.0, 0.5)));
        assert!(pr_curve(&[0.2], &[false]).is_none());
    }

    #[test]
    fn reliability_bins_cover_every_example() {
        let p = Predictions {
            labels: vec!["a".into(), "b".into()],
            y_true: vec![0, 1, 1, 0],
            proba: vec![
                vec![0.9, 0.1],
                vec![0.2, 0.8],
                vec![0.0, 1.0],
                vec![0.45, 0.55],
            ],
        };
        let (bins, ece) = reliability(&p);
        assert_eq!(bins.iter().map(|b| b.count).sum::<usize>(), 4);
        assert_eq!(bins[BINS - 1].count, 1);
        // |1−0.9|, |1−0.8|, |1−1|, |0−0.55| over 4.
        assert!((ece - (0.1 + 0.2 + 0.0 + 0.55) / 4.0).abs() < 1e-12);
    }
}
