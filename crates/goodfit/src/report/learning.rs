//! The "Learning curve" section from `learning_curve.json` (`goodfit learning-curve`): the
//! training and validation scores for growing shares of the training set, and what they say
//! about collecting more data.

use serde_json::Value;

use super::blocks::{figure, grid, note, table};
use super::charts::{self, Axis, Key, Pen, BLUE, ORANGE};
use super::format::{duration, esc, metric_name, num, opt_num, pct};
use super::run::{Optional, Run};
use crate::error::{Error, Result};

/// One point of the curve, read leniently.
#[derive(Debug, Clone)]
struct Point {
    fraction: Option<f64>,
    rows: Option<f64>,
    train: Option<f64>,
    val: Option<f64>,
    val_loss: Option<f64>,
    seconds: Option<f64>,
}

fn points(curve: &Value) -> Result<Vec<Point>> {
    let number = |p: &Value, k: &str| p.get(k).and_then(Value::as_f64).filter(|x| x.is_finite());
    let points: Vec<Point> = curve
        .get("points")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Invalid("no 'points' array".into()))?
        .iter()
        .map(|p| Point {
            fraction: number(p, "fraction"),
            rows: number(p, "rows"),
            train: number(p, "train_score"),
            val: number(p, "val_score"),
            val_loss: number(p, "val_loss"),
            seconds: number(p, "seconds"),
        })
        .collect();
    if !points
        .iter()
        .any(|p| (p.rows.is_some() || p.fraction.is_some()) && (p.train.or(p.val)).is_some())
    {
        return Err(Error::Invalid(
            "no point with a size (rows or fraction) and a score".into(),
        ));
    }
    Ok(points)
}

/// The metric key of the curve (`f1_macro` when the file does not say).
fn metric(curve: &Value) -> String {
    curve
        .get("metric")
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .unwrap_or("f1_macro")
        .to_string()
}

/// The learning curve of `curve` (the JSON of
/// [`LearningCurve`](crate::train::learning_curve::LearningCurve)) as an inline SVG: the
/// training (dashed) and validation (solid) scores against the training rows used — or the
/// share of the training set in %, when a point lacks its row count — on a 0–1 axis unless
/// a score falls outside it.
///
/// An [`Error::Invalid`] when `curve` has no `points` array or no point with a size and a
/// score.
pub fn learning_curve_svg(curve: &Value) -> Result<String> {
    let points = points(curve)?;
    let name = metric_name(&metric(curve));
    let by_rows = points.iter().all(|p| p.rows.is_some());
    let at = |p: &Point| {
        if by_rows {
            p.rows
        } else {
            p.fraction.map(|f| f * 100.0)
        }
    };
    let series = |score: fn(&Point) -> Option<f64>| -> Vec<(f64, Option<f64>)> {
        points
            .iter()
            .filter_map(|p| at(p).map(|x| (x, score(p))))
            .collect()
    };
    let train = series(|p| p.train);
    let val = series(|p| p.val);
    let x = Axis::values(
        train.iter().map(|p| p.0),
        true,
        if by_rows {
            "training rows"
        } else {
            "share of the training set (%)"
        },
    );
    let scores: Vec<f64> = train.iter().chain(&val).filter_map(|p| p.1).collect();
    let y = if scores.iter().all(|s| (0.0..=1.0).contains(s)) {
        Axis::unit(&name)
    } else {
        Axis::values(scores.iter().copied().chain([0.0, 1.0]), false, &name)
    };
    let title = format!("Learning curve: {name} by training set size");
    Ok(charts::svg(520, 330, &title, |root| {
        let keys = [
            ("training", Key::Line(ORANGE, true)),
            ("validation", Key::Line(BLUE, false)),
        ];
        let area = charts::key_row(root, &keys)?;
        let mut chart = charts::plane(&area, &x, &y)?;
        let pen = |color, dashed| Pen {
            color,
            dashed,
            dots: true,
        };
        charts::line(&mut chart, &train, pen(ORANGE, true))?;
        charts::line(&mut chart, &val, pen(BLUE, false))
    }))
}

/// The section's body, or `None` without learning_curve.json.
pub fn section(run: &Run) -> Option<String> {
    let curve = match &run.learning_curve {
        Optional::Absent => return None,
        Optional::Unreadable(why) => return Some(note(why)),
        Optional::Present(curve) => curve,
    };
    let (svg, points) = match learning_curve_svg(curve).and_then(|svg| Ok((svg, points(curve)?))) {
        Ok(drawn) => drawn,
        Err(e) => return Some(note(&format!("learning_curve.json: {e}"))),
    };
    let name = metric_name(&metric(curve));
    let mut caption = format!(
        "<b>Learning curve.</b> {} on the training rows used (dashed) and on the full \
         validation set (solid), training on growing stratified shares of the training set.",
        esc(&name)
    );
    if let Some(conclusion) = curve.get("conclusion").and_then(Value::as_str) {
        let mut chars = conclusion.trim().chars();
        if let Some(first) = chars.next() {
            let sentence = format!("{}{}", first.to_uppercase(), chars.as_str());
            let end = if sentence.ends_with('.') { "" } else { "." };
            caption.push_str(&format!(" <b>{}{end}</b>", esc(&sentence)));
        }
    }
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            vec![
                pct(p.fraction),
                opt_num(p.rows),
                opt_num(p.train),
                opt_num(p.val),
                opt_num(p.val_loss),
                duration(p.seconds),
            ]
        })
        .collect();
    let head = ["share", "rows", "train", "val", "val loss", "time"];
    let mut side = format!(
        "<div>\n{}<p>Scores are {} on the rows trained on and on validation.",
        table(&head, &rows, 0),
        esc(&name)
    );
    if let Some(slope) = curve.get("final_slope").and_then(Value::as_f64) {
        side.push_str(&format!(
            " Validation {} gained {} per 10% more training data over the last step.",
            esc(&name),
            num(slope)
        ));
    }
    side.push_str("</p>\n");
    side.push_str("</div>\n");
    Some(grid(&[figure(&svg, &caption, false), side]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fractions_stand_in_for_missing_rows_and_scores_outside_0_1_widen_the_axis() {
        let curve = json!({"metric": "mcc", "points": [
            {"fraction": 0.25, "train_score": 0.9, "val_score": -0.2},
            {"fraction": 1.0, "train_score": 0.8, "val_score": 0.5}
        ]});
        let svg = learning_curve_svg(&curve).unwrap();
        assert!(svg.contains("share of the training set (%)"));
        let texts: Vec<&str> = svg
            .split("<text")
            .skip(1)
            .filter_map(|t| Some(t[t.find('>')? + 1..t.find("</text>")?].trim()))
            .collect();
        assert!(
            texts.contains(&"MCC") && texts.contains(&"-0.2"),
            "{texts:?}"
        );
        let err = learning_curve_svg(&json!({"points": [{"rows": 3}]})).unwrap_err();
        assert!(err.to_string().contains("no point"), "{err}");
        assert!(learning_curve_svg(&json!({})).is_err());
    }
}
