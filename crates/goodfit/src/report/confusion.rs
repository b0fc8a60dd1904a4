//! Confusion-matrix heatmaps: counts beside row-normalised shares, so a small class's
//! mistakes are as visible as a large one's.

use super::blocks::figure;
use super::charts::{self, Axis, INK};
use super::format::{esc, num, pct};
use super::run::SetMetrics;

/// Cell values of a heatmap, row by row (`None`: undefined).
type Grid = Vec<Vec<Option<f64>>>;

/// A figure with the two heatmaps of `metrics` (`set` names it: "validation",
/// "test"), or `None` without a usable matrix.
pub fn figure_for(set: &str, metrics: &SetMetrics) -> Option<String> {
    let matrix = metrics.confusion.as_ref()?;
    let labels = &metrics.labels;
    let n = labels.len();
    let shares: Grid = matrix
        .iter()
        .map(|row| {
            let total: f64 = row.iter().sum();
            row.iter()
                .map(|c| (total > 0.0).then(|| c / total))
                .collect()
        })
        .collect();
    let counts: Grid = matrix
        .iter()
        .map(|row| row.iter().map(|c| Some(*c)).collect())
        .collect();
    // Small matrices share a row with the other set's; large ones take the page's width.
    let wide = n > 6;
    let (width, height) = if wide {
        (1000, (34 * n).saturating_add(200).clamp(300, 720) as u32)
    } else {
        (500, 150 + 40 * n as u32) // n ≤ 6
    };
    let title = format!("Confusion matrices, {set}");
    let svg = charts::svg(width, height, &title, |root| {
        let halves = root.split_evenly((1, 2));
        let share = |v: f64| pct(Some(v));
        let counts_area = halves[0].titled("counts", charts::font(13.5))?;
        heatmap(&counts_area, labels, &counts, &num, ("predicted", "true"))?;
        let shares_area = halves[1].titled("share of each true class", charts::font(13.5))?;
        heatmap(&shares_area, labels, &shares, &share, ("predicted", "true"))?;
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

/// One heatmap: cells shaded by value (relative to the largest), each labelled; `axes`
/// names the columns and the rows.
pub(super) fn heatmap(
    area: &charts::Area,
    labels: &[String],
    values: &[Vec<Option<f64>>],
    text: &dyn Fn(f64) -> String,
    axes: (&str, &str),
) -> charts::Drawing {
    let n = labels.len();
    // Row 0 at the top: the y axis counts upwards, so rows are laid out reversed.
    let reversed: Vec<String> = labels.iter().rev().cloned().collect();
    let max_chars = match n {
        0..=2 => 14,
        3..=6 => 9,
        _ => 10,
    };
    let x = Axis::categories(labels, max_chars, axes.0);
    let y = Axis::categories(&reversed, max_chars, axes.1);
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
