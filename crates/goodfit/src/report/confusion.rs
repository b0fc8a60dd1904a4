//! Confusion-matrix heatmaps: counts beside row-normalised shares, so a small class's
//! mistakes are as visible as a large one's.

use super::charts::{self, Axis, INK};
use super::format::{esc, num, pct};
use super::html::figure;
use super::run::SetMetrics;

/// A wide figure with the two heatmaps of `metrics` (`set` names it: "validation",
/// "test"), or `None` without a usable matrix.
pub fn figure_for(set: &str, metrics: &SetMetrics) -> Option<String> {
    let matrix = metrics.confusion.as_ref()?;
    let labels = &metrics.labels;
    let n = labels.len();
    let shares: Vec<Vec<Option<f64>>> = matrix
        .iter()
        .map(|row| {
            let total: f64 = row.iter().sum();
            row.iter()
                .map(|c| (total > 0.0).then(|| c / total))
                .collect()
        })
        .collect();
    let counts: Vec<Vec<Option<f64>>> = matrix
        .iter()
        .map(|row| row.iter().map(|c| Some(*c)).collect())
        .collect();
    // Small matrices share a row with the other set's; large ones take the page's width.
    let wide = n > 6;
    let (width, height) = if wide {
        (1000, (200 + 34 * n as u32).clamp(300, 720))
    } else {
        (500, 150 + 40 * n as u32)
    };
    let title = format!("Confusion matrices, {set}");
    let svg = charts::svg(width, height, &title, |root| {
        let halves = root.split_evenly((1, 2));
        let panels: [(&str, &Vec<Vec<Option<f64>>>, fn(f64) -> String); 2] = [
            ("counts", &counts, num),
            ("share of each true class", &shares, |v| pct(Some(v))),
        ];
        for ((name, values, text), area) in panels.iter().zip(&halves) {
            let area = area.titled(name, charts::font(13.5))?;
            heatmap(&area, labels, values, *text)?;
        }
        Ok(())
    });
    let total: f64 = matrix.iter().flatten().sum();
    let correct: f64 = (0..n).map(|i| matrix[i][i]).sum();
    let caption = format!(
        "<b>Confusion matrix, {}</b> ({} examples, {} on the diagonal). Rows are the true \
         class, columns the predicted one; the right-hand matrix divides each row by its \
         total, so its diagonal is each class's recall.",
        esc(set),
        num(total),
        num(correct)
    );
    Some(figure(&svg, &caption, wide))
}

/// One heatmap: cells shaded by value (relative to the largest), each labelled.
fn heatmap(
    area: &charts::Area,
    labels: &[String],
    values: &[Vec<Option<f64>>],
    text: fn(f64) -> String,
) -> charts::Drawing {
    let n = labels.len();
    // Row 0 at the top: the y axis counts upwards, so rows are laid out reversed.
    let reversed: Vec<String> = labels.iter().rev().cloned().collect();
    let max_chars = if n <= 4 { 16 } else { 10 };
    let x = Axis::categories(labels, max_chars, "predicted");
    let y = Axis::categories(&reversed, max_chars, "true");
    let max = values
        .iter()
        .flatten()
        .flatten()
        .fold(0.0f64, |m, v| m.max(*v));
    let mut chart = charts::plane(area, &x, &y)?;
    let font_size = match n {
        0..=4 => 15.0,
        5..=8 => 12.0,
        9..=14 => 10.0,
        _ => 0.0,
    };
    let mut cells = Vec::new();
    let mut texts = Vec::new();
    for (i, row) in values.iter().enumerate() {
        let yc = (n - 1 - i) as f64;
        for (j, value) in row.iter().enumerate() {
            let xc = j as f64;
            let t = match value {
                Some(v) if max > 0.0 => v / max,
                _ => 0.0,
            };
            // A thin gap between cells reads as a grid without drawing one.
            cells.push((
                (xc - 0.49, yc - 0.49),
                (xc + 0.49, yc + 0.49),
                charts::blues(0.04 + 0.96 * t),
            ));
            if font_size > 0.0 {
                let label = value.map_or_else(|| "—".to_string(), text);
                let color = if t > 0.55 {
                    plotters::style::WHITE
                } else {
                    INK
                };
                texts.push(((xc, yc), label, color));
            }
        }
    }
    charts::bars(&mut chart, cells)?;
    for (at, label, color) in texts {
        charts::label(&mut chart, at, &label, charts::font_in(font_size, color))?;
    }
    Ok(())
}
