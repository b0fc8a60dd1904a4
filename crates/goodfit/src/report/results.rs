//! The "Results" section: every score of the kept weights on validation and test, the
//! confusion matrices, and precision, recall and F1 per class.

use super::blocks::{figure, grid, table};
use super::charts::{self, Axis, Key, BLUE, GREEN, ORANGE};
use super::confusion;
use super::format::{esc, metric_name, opt_num};
use super::run::{Run, SetMetrics};
use crate::metrics::SCALAR_METRICS;

/// The section's body, or `None` when metrics.json holds neither `val` nor `test`.
pub fn section(run: &Run) -> Option<String> {
    let s = &run.summary;
    let sets: Vec<(&str, &SetMetrics, Option<f64>)> = [
        ("validation", s.val.as_ref(), s.val_loss),
        ("test", s.test.as_ref(), s.test_loss),
    ]
    .into_iter()
    .filter_map(|(name, m, loss)| m.map(|m| (name, m, loss)))
    .collect();
    if sets.is_empty() {
        return None;
    }
    // Two tables of scores side by side (labels, then agreement and probabilities), and
    // the per-class tables below them.
    let (labels, others): (Vec<&str>, Vec<&str>) = SCALAR_METRICS.iter().partition(|k| {
        k.starts_with("precision")
            || k.starts_with("recall")
            || k.starts_with("f1")
            || k.contains("accuracy")
    });
    let mut html = String::from("<div class=\"tables\">\n");
    html.push_str(&scores_table(&sets, &labels, false));
    html.push_str(&scores_table(&sets, &others, true));
    for (name, metrics, _) in &sets {
        if !metrics.per_class.is_empty() {
            html.push_str(&per_class_table(name, metrics));
        }
    }
    html.push_str("</div>\n<h3>Where the mistakes are</h3>\n");
    let mut figures: Vec<String> = sets
        .iter()
        .filter_map(|(name, m, _)| confusion::figure_for(name, m))
        .collect();
    figures.extend(
        sets.iter()
            .filter_map(|(name, m, _)| per_class_figure(name, m)),
    );
    html.push_str(&grid(&figures));
    Some(html)
}

/// The metrics `keys` (and the loss first, when `with_loss`), one column per set.
fn scores_table(
    sets: &[(&str, &SetMetrics, Option<f64>)],
    keys: &[&str],
    with_loss: bool,
) -> String {
    let mut head = vec!["metric"];
    head.extend(sets.iter().map(|(name, _, _)| *name));
    let mut rows = Vec::new();
    if with_loss {
        let mut row = vec!["loss".to_string()];
        row.extend(sets.iter().map(|(_, _, loss)| opt_num(*loss)));
        rows.push(row);
    }
    for key in keys {
        let mut row = vec![esc(&metric_name(key))];
        row.extend(sets.iter().map(|(_, m, _)| opt_num(m.get(key))));
        rows.push(row);
    }
    table(&head, &rows, 1)
}

fn per_class_table(set: &str, metrics: &SetMetrics) -> String {
    let rows: Vec<Vec<String>> = metrics
        .per_class
        .iter()
        .map(|c| {
            vec![
                esc(&c.label),
                opt_num(c.precision),
                opt_num(c.recall),
                opt_num(c.f1),
                opt_num(c.support),
            ]
        })
        .collect();
    let head = format!("class ({})", esc(set));
    table(&[&head, "precision", "recall", "F1", "support"], &rows, 1)
}

/// Grouped bars: precision, recall and F1 of each class.
fn per_class_figure(set: &str, metrics: &SetMetrics) -> Option<String> {
    let classes = &metrics.per_class;
    if classes.is_empty() {
        return None;
    }
    let labels: Vec<String> = classes.iter().map(|c| c.label.clone()).collect();
    let n = classes.len();
    let x = Axis::categories(&labels, if n <= 4 { 18 } else { 9 }, "");
    let y = Axis {
        max: 1.08,
        ..Axis::unit("score")
    };
    let kinds = [("precision", BLUE), ("recall", ORANGE), ("F1", GREEN)];
    let svg = charts::svg(500, 320, &format!("Per-class scores, {set}"), |root| {
        let keys: Vec<(&str, Key)> = kinds.iter().map(|(n, c)| (*n, Key::Swatch(*c))).collect();
        let area = charts::key_row(root, &keys)?;
        let mut chart = charts::plane(&area, &x, &y)?;
        let width = 0.8 / kinds.len() as f64;
        let mut rects = Vec::new();
        let mut texts = Vec::new();
        for (i, class) in classes.iter().enumerate() {
            let values = [class.precision, class.recall, class.f1];
            for (k, (value, (_, color))) in values.iter().zip(kinds).enumerate() {
                let x0 = i as f64 - 0.4 + k as f64 * width;
                if let Some(v) = value {
                    rects.push(((x0 + 0.01, 0.0), (x0 + width - 0.01, *v), color));
                    if n <= 4 {
                        texts.push(((x0 + width / 2.0, v + 0.035), format!("{v:.2}")));
                    }
                }
            }
        }
        charts::bars(&mut chart, rects)?;
        for (at, text) in texts {
            charts::label(&mut chart, at, &text, charts::font(11.0))?;
        }
        Ok(())
    });
    let caption = format!(
        "<b>Precision, recall and F1 per class, {}.</b> A class whose recall trails its \
         precision is being under-predicted — typical of a minority class.",
        esc(set)
    );
    Some(figure(&svg, &caption, false))
}
