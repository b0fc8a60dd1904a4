//! The chart of `goodfit lr-find`: the smoothed training loss against the learning rate on
//! a log scale, the raw batch losses faint behind it, and the suggestion marked.

use super::charts::{self, Axis, Key, Pen, BLUE, MUTED, ORANGE};
use crate::train::lr_find::LrFind;

/// The range test as an SVG.
pub fn lr_find_svg(found: &LrFind) -> String {
    let at = |lr: f64| lr.log10();
    let smoothed: Vec<(f64, Option<f64>)> = found
        .points
        .iter()
        .map(|p| (at(p.lr), Some(p.smoothed)))
        .collect();
    let raw: Vec<(f64, Option<f64>)> = found
        .points
        .iter()
        .map(|p| (at(p.lr), Some(p.loss)))
        .collect();
    let (lo, hi) = smoothed
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.0), hi.max(p.0))
        });
    let (lo, hi) = if lo.is_finite() {
        (lo, hi.max(lo + 1.0))
    } else {
        (-7.0, 1.0)
    };
    let x = Axis {
        min: lo.floor(),
        max: hi.ceil(),
        ticks: (lo.floor() as i32..=hi.ceil() as i32)
            .map(|e| (e as f64, format!("1e{e}")))
            .collect(),
        desc: format!("{} (log scale)", found.swept.replace('_', " ")),
        grid: true,
    };
    // The curve up to where it left 4× its lowest: raw losses beyond that would flatten it.
    let y = Axis::values(
        smoothed.iter().filter_map(|p| p.1).chain(
            raw.iter()
                .filter_map(|p| p.1)
                .filter(|l| l.is_finite())
                .map(|l| l.min(smoothed_cap(found))),
        ),
        true,
        "training loss",
    );
    let title = "Learning-rate range test: training loss by learning rate";
    charts::svg(560, 340, title, |root| {
        let keys = [
            ("batch loss", Key::Line(MUTED, true)),
            ("smoothed", Key::Line(BLUE, false)),
        ];
        let area = charts::key_row(root, &keys)?;
        let mut chart = charts::plane(&area, &x, &y)?;
        let capped: Vec<(f64, Option<f64>)> = raw
            .iter()
            .map(|&(x, l)| (x, l.map(|l| l.min(y.max))))
            .collect();
        let faint = Pen {
            color: MUTED,
            dashed: true,
            dots: false,
        };
        charts::line(&mut chart, &capped, faint)?;
        let pen = Pen {
            color: BLUE,
            dashed: false,
            dots: false,
        };
        charts::line(&mut chart, &smoothed, pen)?;
        if let Some(lr) = found.suggestion {
            let label = format!("suggested {}", found.advice);
            charts::vline(&mut chart, at(lr), &y, ORANGE, &label, true, 0)?;
        }
        Ok(())
    })
}

/// The highest smoothed loss, a ceiling for the raw losses drawn.
fn smoothed_cap(found: &LrFind) -> f64 {
    found
        .points
        .iter()
        .map(|p| p.smoothed)
        .filter(|l| l.is_finite())
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::lr_find::LrPoint;

    #[test]
    fn draws_the_curve_and_the_suggestion() {
        let points: Vec<LrPoint> = (0..20)
            .map(|i| {
                let lr = 1e-6 * 10f64.powf(i as f64 / 4.0);
                let loss = 1.0 - 0.03 * i as f64 + if i > 15 { 2.0 } else { 0.0 };
                LrPoint {
                    lr,
                    loss,
                    smoothed: loss,
                }
            })
            .collect();
        let found = LrFind {
            swept: "lr".into(),
            head_ratio: 10.0,
            points,
            stopped: "all 20 steps ran".into(),
            suggestion: Some(1e-4),
            suggested_head_lr: Some(1e-3),
            advice: "--lr 0.0001 --head-lr 0.001".into(),
        };
        let svg = lr_find_svg(&found);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("1e-4"), "log ticks");
        assert!(svg.contains("suggested --lr 0.0001"));
    }
}
