//! The "Weights" section from `weights.json`: how far each layer moved from where it
//! started, what its weights look like, and how big each epoch's updates were.

use serde_json::Value;

use super::blocks::{figure, grid, note, table};
use super::charts::{self, Axis, Key, Pen, BLUE, MUTED};
use super::format::{esc, json_text, num, opt_num, truncate};
use super::run::{Optional, Run};

/// Most histograms drawn: a few small multiples say enough.
const MAX_HISTOGRAMS: usize = 6;

/// One layer of weights.json, read leniently.
#[derive(Debug, Clone)]
struct Layer {
    name: String,
    trainable: bool,
    params: Option<f64>,
    l2_norm: Option<f64>,
    mean: Option<f64>,
    std: Option<f64>,
    drift: Option<f64>,
    /// `(edges, counts)`, when the two agree (`edges` one longer).
    histogram: Option<(Vec<f64>, Vec<f64>)>,
    update_ratio: Vec<Option<f64>>,
}

fn layers(weights: &Value) -> Vec<Layer> {
    let number = |v: &Value, k: &str| v.get(k).and_then(Value::as_f64).filter(|x| x.is_finite());
    let floats = |v: Option<&Value>| -> Vec<Option<f64>> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| x.as_f64().filter(|x| x.is_finite()))
                    .collect()
            })
            .unwrap_or_default()
    };
    weights
        .get("layers")
        .and_then(Value::as_array)
        .map(|layers| {
            layers
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let histogram = l.get("histogram").and_then(|h| {
                        let edges: Option<Vec<f64>> = floats(h.get("edges")).into_iter().collect();
                        let counts: Option<Vec<f64>> =
                            floats(h.get("counts")).into_iter().collect();
                        match (edges, counts) {
                            (Some(e), Some(c)) if !c.is_empty() && e.len() == c.len() + 1 => {
                                Some((e, c))
                            }
                            _ => None,
                        }
                    });
                    Layer {
                        name: l
                            .get("name")
                            .map(json_text)
                            .unwrap_or_else(|| format!("layer {i}")),
                        trainable: l.get("trainable").and_then(Value::as_bool).unwrap_or(false),
                        params: number(l, "params"),
                        l2_norm: number(l, "l2_norm"),
                        mean: number(l, "mean"),
                        std: number(l, "std"),
                        drift: number(l, "drift"),
                        histogram,
                        update_ratio: floats(l.get("update_ratio")),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The section's body, or `None` without weights.json.
pub fn section(run: &Run) -> Option<String> {
    let weights = match &run.weights {
        Optional::Absent => return None,
        Optional::Unreadable(why) => return Some(note(why)),
        Optional::Present(w) => w,
    };
    let layers = layers(weights);
    if layers.is_empty() {
        return Some(note("weights.json lists no layers."));
    }
    let mut html = String::new();
    let flags: Vec<String> = weights
        .get("flags")
        .and_then(Value::as_array)
        .map(|f| f.iter().map(json_text).collect())
        .unwrap_or_default();
    if !flags.is_empty() {
        html.push_str("<ul class=\"warnings\">");
        for flag in flags {
            html.push_str(&format!("<li>{}</li>", esc(&flag)));
        }
        html.push_str("</ul>\n");
    }
    let figures: Vec<String> = [
        drift_figure(&layers),
        update_figure(&layers),
        histograms_figure(&layers),
    ]
    .into_iter()
    .flatten()
    .collect();
    html.push_str(&grid(&figures));
    html.push_str(&layer_table(&layers));
    Some(html)
}

/// Horizontal bars: each layer's relative drift ‖θ − θ₀‖ / ‖θ₀‖, values written at the bar
/// ends so that a layer beside a much larger one still reads.
fn drift_figure(layers: &[Layer]) -> Option<String> {
    if layers.iter().all(|l| l.drift.is_none()) {
        return None;
    }
    let n = layers.len();
    // First layer at the top.
    let names: Vec<String> = layers.iter().rev().map(|l| l.name.clone()).collect();
    let y = Axis::categories(&names, 22, "");
    let top = layers.iter().filter_map(|l| l.drift).fold(0.0f64, f64::max);
    let x = Axis::values([0.0, top * 1.18], true, "drift from the starting weights");
    let height = (26 * n).saturating_add(90).clamp(240, 720) as u32;
    let svg = charts::svg(500, height, "Weight drift per layer", |root| {
        let mut chart = charts::plane(root, &x, &y)?;
        let mut rects = Vec::new();
        for (i, layer) in layers.iter().enumerate() {
            let yc = (n - 1 - i) as f64;
            let text = match layer.drift {
                Some(d) => {
                    let color = if layer.trainable { BLUE } else { MUTED };
                    rects.push(((0.0, yc - 0.32), (d, yc + 0.32), color));
                    num(d)
                }
                None if layer.trainable => "—".to_string(),
                None => "frozen".to_string(),
            };
            let at = (layer.drift.unwrap_or(0.0) + top * 0.02, yc);
            let style = charts::font(11.0).pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Left,
                plotters::style::text_anchor::VPos::Center,
            ));
            chart.draw_series(std::iter::once(plotters::element::Text::new(
                text, at, style,
            )))?;
        }
        charts::bars(&mut chart, rects)?;
        Ok(())
    });
    let caption = "<b>Weight drift per layer:</b> how far training moved each layer, as \
                   ‖θ − θ₀‖ / ‖θ₀‖. A fresh head moves most; pretrained layers that move a \
                   lot are forgetting what they knew.";
    Some(figure(&svg, caption, false))
}

/// Lines: each trainable layer's update size per epoch relative to its weights, on a
/// log scale when they span more than a factor of 30.
fn update_figure(layers: &[Layer]) -> Option<String> {
    // Frozen layers are written with ratios of 0 every epoch: leave them out, unless no
    // layer is marked trainable (then every layer that moved at all).
    let moved = |l: &&Layer| l.update_ratio.iter().flatten().any(|v| *v > 0.0);
    let mut moving: Vec<&Layer> = layers
        .iter()
        .filter(|l| l.trainable)
        .filter(moved)
        .collect();
    if moving.is_empty() {
        moving = layers.iter().filter(moved).collect();
    }
    if moving.is_empty() {
        return None;
    }
    let values: Vec<f64> = moving
        .iter()
        .flat_map(|l| l.update_ratio.iter().flatten().copied())
        .collect();
    let (lo, hi) = values
        .iter()
        .filter(|v| **v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    // A log scale once the ratios span more than a factor of 30 (zeros are then left out).
    let log = lo > 0.0 && hi / lo > 30.0;
    let transform = |v: f64| if log { v.log10() } else { v };
    let epochs = moving
        .iter()
        .map(|l| l.update_ratio.len())
        .max()
        .unwrap_or(1);
    let x = Axis::whole(1.0, epochs as f64, "epoch");
    let y = if log {
        log_axis(lo, hi, "update / weight norm (log)")
    } else {
        Axis::values(values.iter().copied(), true, "update / weight norm")
    };
    let names: Vec<String> = moving.iter().map(|l| truncate(&l.name, 24)).collect();
    let svg = charts::svg(500, 320, "Update ratio per epoch", |root| {
        let keys: Vec<(&str, Key)> = names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.as_str(), Key::Line(charts::series_color(i), false)))
            .collect();
        let area = charts::key_row(root, &keys)?;
        let mut chart = charts::plane(&area, &x, &y)?;
        for (i, layer) in moving.iter().enumerate() {
            let points: Vec<(f64, Option<f64>)> = layer
                .update_ratio
                .iter()
                .enumerate()
                .map(|(e, v)| {
                    (
                        (e + 1) as f64,
                        v.filter(|v| !log || *v > 0.0).map(transform),
                    )
                })
                .collect();
            let pen = Pen {
                color: charts::series_color(i),
                dashed: false,
                dots: true,
            };
            charts::line(&mut chart, &points, pen)?;
        }
        Ok(())
    });
    let caption = "<b>Update ratio per epoch:</b> the size of each epoch's change to a layer \
                   relative to the layer's weights. Around 10⁻³ per step is healthy; ratios \
                   that stay high late in training point to a learning rate that is too \
                   high, ratios near zero to a layer that has stopped learning.";
    Some(figure(&svg, caption, false))
}

/// A log10 axis over `lo..=hi` (both positive) in log10 units: ticks at the powers of ten
/// inside, and at 2 and 5 times them when fewer than two powers fall inside.
fn log_axis(lo: f64, hi: f64, desc: &str) -> Axis {
    let (min, max) = (lo.log10() - 0.15, hi.log10() + 0.15);
    let inside = |t: &f64| *t >= min && *t <= max;
    let powers: Vec<f64> = (min.ceil() as i32..=max.floor() as i32)
        .map(f64::from)
        .collect();
    let mut ticks: Vec<f64> = powers.clone();
    if powers.len() < 2 {
        for k in (min.floor() as i32)..=(max.ceil() as i32) {
            for m in [2.0f64, 5.0] {
                ticks.push(f64::from(k) + m.log10());
            }
        }
        ticks.retain(inside);
        ticks.sort_by(f64::total_cmp);
    }
    Axis {
        min,
        max,
        ticks: ticks
            .into_iter()
            .map(|t| (t, num(crate::report::format::round_sig(10f64.powf(t), 3))))
            .collect(),
        desc: desc.to_string(),
        grid: true,
    }
}

/// Small multiples of the weight histograms: the trainable layers first, then the last
/// frozen ones, in file order.
fn histograms_figure(layers: &[Layer]) -> Option<String> {
    let with_hist: Vec<(usize, &Layer)> = layers
        .iter()
        .enumerate()
        .filter(|(_, l)| l.histogram.is_some())
        .collect();
    if with_hist.is_empty() {
        return None;
    }
    let mut chosen: Vec<(usize, &Layer)> = with_hist
        .iter()
        .filter(|(_, l)| l.trainable)
        .rev()
        .take(MAX_HISTOGRAMS)
        .copied()
        .collect();
    for item in with_hist.iter().rev() {
        if chosen.len() >= MAX_HISTOGRAMS {
            break;
        }
        if !item.1.trainable {
            chosen.push(*item);
        }
    }
    chosen.sort_by_key(|(i, _)| *i);
    let cols = chosen.len().min(3);
    let rows = chosen.len().div_ceil(cols);
    let svg = charts::svg(1000, 210 * rows as u32, "Weight histograms", |root| {
        let areas = root.split_evenly((rows, cols));
        for ((_, layer), area) in chosen.iter().zip(&areas) {
            let Some((edges, counts)) = &layer.histogram else {
                continue;
            };
            let title = format!(
                "{}{}",
                truncate(&layer.name, 30),
                if layer.trainable { " · trainable" } else { "" }
            );
            let area = area.titled(&title, charts::font(13.0))?;
            let x = Axis::values(edges.iter().copied(), false, "");
            let y = Axis::values(counts.iter().copied(), true, "");
            let mut chart = charts::plane(&area, &x, &y)?;
            // Frozen layers in a quieter teal rather than grey: still data, not axes.
            let color = if layer.trainable {
                BLUE
            } else {
                charts::series_color(4)
            };
            charts::bars(
                &mut chart,
                counts
                    .iter()
                    .enumerate()
                    .map(|(b, c)| ((edges[b], 0.0), (edges[b + 1], *c), color)),
            )?;
        }
        Ok(())
    });
    let caption = "<b>Weight histograms</b> of a few layers (trainable in blue, frozen in \
                   teal). Long tails or a spike at zero (L1) show here first.";
    Some(figure(&svg, caption, true))
}

fn layer_table(layers: &[Layer]) -> String {
    let rows: Vec<Vec<String>> = layers
        .iter()
        .map(|l| {
            vec![
                format!("<code>{}</code>", esc(&l.name)),
                if l.trainable { "yes" } else { "no" }.to_string(),
                opt_num(l.params),
                opt_num(l.l2_norm),
                opt_num(l.mean),
                opt_num(l.std),
                opt_num(l.drift),
            ]
        })
        .collect();
    format!(
        "<h3>Layers</h3>\n{}",
        table(
            &[
                "layer",
                "trainable",
                "parameters",
                "‖θ‖",
                "mean",
                "std",
                "drift"
            ],
            &rows,
            2
        )
    )
}
