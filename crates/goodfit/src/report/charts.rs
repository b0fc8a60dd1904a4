//! The drawing kit every chart of the report shares: an SVG canvas rendered to a string,
//! axes with ticks chosen here (so epochs are whole numbers and categories are named), a
//! calm palette, and lines, bars, markers and legends in one style.

use std::iter::once;

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::format::{esc, num};

/// A drawing area of an SVG canvas.
pub type Area<'b> = DrawingArea<SVGBackend<'b>, Shift>;

/// One axis coordinate: a float range whose ticks are exactly the ones [`Axis`] chose
/// (plotters' own float axis picks its ticks itself, and its key-point wrapper cannot take
/// a label formatter).
pub struct Coord {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
}

impl Ranged for Coord {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.hi - self.lo;
        if !(span.is_finite() && span != 0.0 && value.is_finite()) {
            return (limit.0 + limit.1) / 2;
        }
        let t = (value - self.lo) / span;
        // Clamped far outside the canvas: a wild value must not overflow pixel arithmetic.
        (limit.0 as f64 + t * (limit.1 - limit.0) as f64)
            .clamp(-1e6, 1e6)
            .round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

/// A chart with two float axes.
pub type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Coord, Coord>>;

/// What drawing returns: plotters' errors are all I/O on a string, so they are boxed.
pub type Drawing<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Tableau's muted colours: distinct without shouting, and readable on white.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x2F, 0x4B, 0x7C),
];
/// Blue: validation, or the first series.
pub const BLUE: RGBColor = PALETTE[0];
/// Orange: training, or the second series.
pub const ORANGE: RGBColor = PALETTE[1];
/// Green: the best epoch, good things.
pub const GREEN: RGBColor = PALETTE[2];
/// Red: the early stop, warnings.
pub const RED: RGBColor = PALETTE[3];
/// Text.
pub const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
/// Axis lines and secondary text.
pub const MUTED: RGBColor = RGBColor(0x8A, 0x8A, 0x8A);
/// Grid lines.
pub const GRID: RGBColor = RGBColor(0xE6, 0xE6, 0xE6);

/// The `i`-th series colour.
pub fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The text style of the charts at `size` px (the page's CSS gives SVG text the system font).
pub fn font(size: f64) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&INK)
}

/// The text style of the charts in `color`.
pub fn font_in(size: f64, color: RGBColor) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&color)
}

/// A sequential blue from near-white (`t = 0`) to deep blue (`t = 1`), for heatmaps.
pub fn blues(t: f64) -> RGBColor {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let lo = (0xF1 as f64, 0xF5 as f64, 0xFA as f64);
    let hi = (0x1F as f64, 0x4E as f64, 0x86 as f64);
    let mix = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(mix(lo.0, hi.0), mix(lo.1, hi.1), mix(lo.2, hi.2))
}

/// Draws a `width`×`height` SVG with `draw` and returns it as markup labelled `title` for
/// screen readers; a drawing error becomes a short note instead of failing the report.
pub fn svg(
    width: u32,
    height: u32,
    title: &str,
    draw: impl FnOnce(&Area<'_>) -> Drawing,
) -> String {
    let mut out = String::new();
    let result = {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        draw(&root).and_then(|()| root.present().map_err(Into::into))
    };
    match result {
        Ok(()) => out.replacen(
            "<svg ",
            &format!("<svg role=\"img\" aria-label=\"{}\" ", esc(title)),
            1,
        ),
        Err(e) => format!(
            "<p class=\"note\">This chart could not be drawn: {}</p>",
            esc(&e.to_string())
        ),
    }
}

/// One axis: its range, its ticks with their labels, and its title.
#[derive(Debug, Clone)]
pub struct Axis {
    /// Lowest value shown.
    pub min: f64,
    /// Highest value shown.
    pub max: f64,
    /// Tick positions and labels.
    pub ticks: Vec<(f64, String)>,
    /// The axis title ("" for none).
    pub desc: String,
    /// Whether grid lines run from the ticks.
    pub grid: bool,
}

impl Axis {
    /// A value axis covering `values` (non-finite ones ignored), with round ticks and a
    /// little room at the ends; `from_zero` keeps 0 in view (bars, losses).
    pub fn values(values: impl IntoIterator<Item = f64>, from_zero: bool, desc: &str) -> Axis {
        Axis::values_with_ticks(values, from_zero, desc, 6)
    }

    /// [`Axis::values`] with about `ticks` ticks (fewer for short axes).
    pub fn values_with_ticks(
        values: impl IntoIterator<Item = f64>,
        from_zero: bool,
        desc: &str,
        ticks: usize,
    ) -> Axis {
        let (mut lo, mut hi) = values
            .into_iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        if !lo.is_finite() {
            (lo, hi) = (0.0, 1.0);
        }
        if from_zero {
            lo = lo.min(0.0);
            hi = hi.max(0.0);
        }
        if hi - lo < 1e-12 {
            let pad = if hi.abs() > 0.0 { hi.abs() * 0.1 } else { 1.0 };
            (lo, hi) = (lo - pad, hi + pad);
            if from_zero && lo < 0.0 && hi > 0.0 && (hi - pad).abs() < 1e-12 {
                lo = 0.0;
            }
        }
        let pad = (hi - lo) * 0.06;
        let lo = if from_zero && lo >= 0.0 { lo } else { lo - pad };
        let hi = hi + pad;
        Axis::span(lo, hi, desc, ticks)
    }

    /// An axis from `min` to `max` exactly, with about `ticks` round ticks.
    pub fn span(min: f64, max: f64, desc: &str, ticks: usize) -> Axis {
        let values = nice_ticks(min, max, ticks);
        let ticks = values.iter().copied().zip(tick_labels(&values)).collect();
        Axis {
            min,
            max,
            ticks,
            desc: desc.to_string(),
            grid: true,
        }
    }

    /// 0 to 1 (scores, probabilities), ticks every 0.2, a hair of room so lines at 1 show.
    pub fn unit(desc: &str) -> Axis {
        Axis {
            min: 0.0,
            max: 1.02,
            ticks: (0..=5)
                .map(|i| i as f64 * 0.2)
                .map(|t| (t, num((t * 10.0).round() / 10.0)))
                .collect(),
            desc: desc.to_string(),
            grid: true,
        }
    }

    /// Whole numbers `first..=last` (epochs), thinned to about 10 ticks.
    pub fn whole(first: f64, last: f64, desc: &str) -> Axis {
        let (first, last) = (first.round(), last.round().max(first.round()));
        let span = last - first;
        let step = nice_ticks(0.0, span.max(1.0), 10)
            .get(1)
            .copied()
            .unwrap_or(1.0)
            .max(1.0);
        let mut ticks = Vec::new();
        let mut t = first;
        while t <= last + 1e-9 {
            ticks.push((t, num(t)));
            t += step;
        }
        let pad = if span == 0.0 {
            0.5
        } else {
            (span * 0.04).max(0.15)
        };
        Axis {
            min: first - pad,
            max: last + pad,
            ticks,
            desc: desc.to_string(),
            grid: false,
        }
    }

    /// One slot per category at 0, 1, 2…, each labelled (cut to `max_chars`).
    pub fn categories(labels: &[String], max_chars: usize, desc: &str) -> Axis {
        let n = labels.len().max(1) as f64;
        Axis {
            min: -0.5,
            max: n - 0.5,
            ticks: labels
                .iter()
                .enumerate()
                .map(|(i, l)| (i as f64, super::format::truncate(l, max_chars)))
                .collect(),
            desc: desc.to_string(),
            grid: false,
        }
    }

    /// The label of the tick at `v` ("" between ticks).
    fn label_at(&self, v: f64) -> String {
        let tolerance = (self.max - self.min).abs() * 1e-9;
        self.ticks
            .iter()
            .find(|(t, _)| (t - v).abs() <= tolerance)
            .map(|(_, l)| l.clone())
            .unwrap_or_default()
    }

    /// Room the tick labels need beside a vertical axis, in pixels.
    fn label_width(&self) -> u32 {
        let chars = self
            .ticks
            .iter()
            .map(|(_, l)| l.chars().count())
            .max()
            .unwrap_or(1);
        chars as u32 * 7 + 14
    }
}

/// The labels of evenly spaced `ticks`: as [`num`] writes numbers, unless that shows two
/// alike (58.18 and 58.19 both as 58.2); then with as many decimals as the step needs.
fn tick_labels(ticks: &[f64]) -> Vec<String> {
    let labels: Vec<String> = ticks.iter().map(|&t| num(t)).collect();
    if ticks.len() < 2 || labels.windows(2).all(|w| w[0] != w[1]) {
        return labels;
    }
    let step = (ticks[1] - ticks[0]).abs();
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    ticks.iter().map(|t| format!("{t:.decimals$}")).collect()
}

/// Round tick values ("1, 2, 5 × 10ᵏ" steps) inside `min..=max`, about `target` of them.
fn nice_ticks(min: f64, max: f64, target: usize) -> Vec<f64> {
    let span = max - min;
    if !span.is_finite() || span <= 0.0 {
        return vec![min];
    }
    let raw = span / target.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = magnitude
        * match raw / magnitude {
            r if r < 1.5 => 1.0,
            r if r < 3.0 => 2.0,
            r if r < 7.0 => 5.0,
            _ => 10.0,
        };
    let mut ticks = Vec::new();
    let mut k = (min / step).ceil();
    while k * step <= max + step * 1e-9 && ticks.len() < 50 {
        // Multiplying (not accumulating) keeps 0.1 + 0.2 noise out of the labels.
        let t = k * step;
        ticks.push(if t.abs() < step * 1e-9 { 0.0 } else { t });
        k += 1.0;
    }
    ticks
}

/// Builds a chart on `area` with the axes `x` and `y`, drawing the grid, ticks and titles.
pub fn plane<'a, 'b>(area: &'a Area<'b>, x: &Axis, y: &Axis) -> Drawing<Chart<'a, 'b>> {
    let x_keys: Vec<f64> = x.ticks.iter().map(|(t, _)| *t).collect();
    let y_keys: Vec<f64> = y.ticks.iter().map(|(t, _)| *t).collect();
    let mut chart = ChartBuilder::on(area)
        .margin(8)
        .margin_right(18)
        .x_label_area_size(if x.desc.is_empty() { 26 } else { 42 })
        .y_label_area_size(y.label_width() + if y.desc.is_empty() { 0 } else { 22 })
        .build_cartesian_2d(
            Coord {
                lo: x.min,
                hi: x.max,
                ticks: x_keys,
            },
            Coord {
                lo: y.min,
                hi: y.max,
                ticks: y_keys,
            },
        )?;
    let x_format = |v: &f64| x.label_at(*v);
    let y_format = |v: &f64| y.label_at(*v);
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(MUTED)
        .label_style(font(13.0))
        .axis_desc_style(font(13.0))
        .set_all_tick_mark_size(4)
        .x_label_formatter(&x_format)
        .y_label_formatter(&y_format);
    if !x.grid {
        mesh.disable_x_mesh();
    }
    if !y.grid {
        mesh.disable_y_mesh();
    }
    if !x.desc.is_empty() {
        mesh.x_desc(x.desc.as_str());
    }
    if !y.desc.is_empty() {
        mesh.y_desc(y.desc.as_str());
    }
    mesh.draw()?;
    Ok(chart)
}

/// How a line is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Pen {
    /// Its colour.
    pub color: RGBColor,
    /// Dashed (training curves) or solid.
    pub dashed: bool,
    /// Dots at the data points (few points: epochs).
    pub dots: bool,
}

/// Draws a line through `points`, broken where a value is undefined.
pub fn line<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    points: &[(f64, Option<f64>)],
    pen: Pen,
) -> Drawing {
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for &(x, y) in points {
        match y.filter(|y| y.is_finite() && x.is_finite()) {
            Some(y) => {
                if let Some(run) = runs.last_mut() {
                    run.push((x, y));
                }
            }
            None if runs.last().is_some_and(|r| !r.is_empty()) => runs.push(Vec::new()),
            None => {}
        }
    }
    let style = ShapeStyle {
        color: pen.color.to_rgba(),
        filled: false,
        stroke_width: 2,
    };
    for run in runs.into_iter().filter(|r| !r.is_empty()) {
        if pen.dashed {
            chart.draw_series(DashedLineSeries::new(run.clone(), 7, 4, style))?;
        } else {
            chart.draw_series(LineSeries::new(run.clone(), style))?;
        }
        if pen.dots {
            let dot = if pen.dashed {
                ShapeStyle::from(WHITE).filled()
            } else {
                pen.color.filled()
            };
            chart.draw_series(
                run.iter()
                    .map(|&p| Circle::new(p, 3, dot).into_dyn())
                    .chain(
                        run.iter()
                            .map(|&p| Circle::new(p, 3, pen.color.stroke_width(1)).into_dyn()),
                    ),
            )?;
        }
    }
    Ok(())
}

/// A dashed vertical marker at `x` across the whole plot, labelled at its top (`top`) or
/// bottom, `nudge` pixels further in (so two labels do not overlap); the label sits left of
/// the line in the right half of the chart, so it stays inside.
pub fn vline<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    x: f64,
    y: &Axis,
    color: RGBColor,
    label: &str,
    top: bool,
    nudge: i32,
) -> Drawing {
    chart.draw_series(DashedLineSeries::new(
        vec![(x, y.min), (x, y.max)],
        5,
        4,
        color.stroke_width(2),
    ))?;
    let (x_min, x_max) = {
        let range = chart.x_range();
        (range.start, range.end)
    };
    let (dx, h) = if x > (x_min + x_max) / 2.0 {
        (-5, HPos::Right)
    } else {
        (5, HPos::Left)
    };
    let (at, dy, v) = if top {
        (y.max, 4 + nudge, VPos::Top)
    } else {
        (y.min, -4 - nudge, VPos::Bottom)
    };
    let style = font_in(12.0, color).pos(Pos::new(h, v));
    chart.draw_series(once(
        EmptyElement::at((x, at)) + Text::new(label.to_string(), (dx, dy), style),
    ))?;
    Ok(())
}

/// Draws filled rectangles `((x0, y0), (x1, y1), colour)`.
pub fn bars<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    rects: impl IntoIterator<Item = ((f64, f64), (f64, f64), RGBColor)>,
) -> Drawing {
    chart.draw_series(
        rects
            .into_iter()
            .filter(|((x0, y0), (x1, y1), _)| [x0, y0, x1, y1].iter().all(|v| v.is_finite()))
            .map(|(a, b, color)| Rectangle::new([a, b], color.filled())),
    )?;
    Ok(())
}

/// What a legend entry shows beside its name.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    /// A filled square (bars).
    Swatch(RGBColor),
    /// A short line, dashed or solid (curves).
    Line(RGBColor, bool),
}

/// A legend of `entries` along the top of `area`, right-aligned and wrapped onto more rows
/// when needed; returns the area left below it. Kept outside the plot so that it never
/// hides a bar or a curve.
pub fn key_row<'b>(area: &Area<'b>, entries: &[(&str, Key)]) -> Drawing<Area<'b>> {
    const ROW: i32 = 18;
    let (width, _) = area.dim_in_pixel();
    let width = width as i32 - 12;
    let widths: Vec<i32> = entries
        .iter()
        .map(|(name, key)| {
            let mark = if matches!(key, Key::Line(..)) { 20 } else { 12 };
            mark + 6 + name.chars().count() as i32 * 7 + 16
        })
        .collect();
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0;
    for (i, w) in widths.iter().enumerate() {
        if used + w > width && rows.last().is_some_and(|r| !r.is_empty()) {
            rows.push(Vec::new());
            used = 0;
        }
        used += w;
        if let Some(row) = rows.last_mut() {
            row.push(i);
        }
    }
    for (r, row) in rows.iter().enumerate() {
        let y = 12 + r as i32 * ROW;
        let mut x = (width - row.iter().map(|&i| widths[i]).sum::<i32>()).max(0);
        for &i in row {
            let (name, key) = entries[i];
            let text_x = match key {
                Key::Swatch(color) => {
                    area.draw(&Rectangle::new(
                        [(x, y - 6), (x + 12, y + 6)],
                        color.filled(),
                    ))?;
                    x + 18
                }
                Key::Line(color, dashed) => {
                    let style = color.stroke_width(2);
                    let segments: &[(i32, i32)] = if dashed {
                        &[(0, 7), (12, 20)]
                    } else {
                        &[(0, 20)]
                    };
                    for &(a, b) in segments {
                        area.draw(&PathElement::new(vec![(x + a, y), (x + b, y)], style))?;
                    }
                    x + 26
                }
            };
            let style = font(12.5).pos(Pos::new(HPos::Left, VPos::Center));
            area.draw(&Text::new(name.to_string(), (text_x, y), style))?;
            x += widths[i];
        }
    }
    Ok(area.margin((6 + rows.len() as i32 * ROW) as u32, 0, 0, 0))
}

/// Text at a data point, centred on it.
pub fn label<'a, 'b: 'a>(
    chart: &mut Chart<'a, 'b>,
    at: (f64, f64),
    text: &str,
    style: TextStyle<'static>,
) -> Drawing {
    let style = style.pos(Pos::new(HPos::Center, VPos::Center));
    chart.draw_series(once(Text::new(text.to_string(), at, style)))?;
    Ok(())
}

/// The diagonal `y = x` from 0 to 1, dashed grey (perfect calibration, chance level).
pub fn diagonal<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>) -> Drawing {
    chart.draw_series(DashedLineSeries::new(
        vec![(0.0, 0.0), (1.0, 1.0)],
        5,
        4,
        MUTED.stroke_width(1),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_are_distinct_at_the_precision_shown() {
        let axis = Axis::span(58.181, 58.189, "", 4);
        let labels: Vec<&str> = axis.ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["58.182", "58.184", "58.186", "58.188"]);
        let plain = Axis::span(0.0, 1.0, "", 5);
        assert_eq!(plain.ticks[1].1, "0.2");
    }

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(
            nice_ticks(0.0, 1.0, 5),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        let epochs = Axis::whole(1.0, 6.0, "epoch");
        let labels: Vec<&str> = epochs.ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(labels, ["1", "2", "3", "4", "5", "6"]);
        let flat = Axis::values([0.5, 0.5], false, "");
        assert!(flat.min < 0.5 && flat.max > 0.5);
        let empty = Axis::values([f64::NAN], true, "");
        assert!(empty.min <= 0.0 && empty.max >= 1.0);
    }

    #[test]
    fn drawing_errors_become_notes() {
        let note = svg(100, 100, "t", |_| Err("boom <x>".into()));
        assert!(note.contains("could not be drawn: boom &lt;x&gt;"));
        let drawn = svg(100, 100, "a \"t\"", |root| {
            root.fill(&WHITE)?;
            Ok(())
        });
        assert!(drawn.starts_with("<svg role=\"img\" aria-label=\"a &quot;t&quot;\""));
    }
}
