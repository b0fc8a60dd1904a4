//! Training curves from `history.jsonl`: loss, the watched metrics, and — when the run was
//! regularised — the two terms of the objective.

use super::blocks::{config_number, figure, grid};
use super::charts::{self, Axis, Key, Pen, BLUE, GREEN, MUTED, ORANGE, RED};
use super::format::{esc, metric_name, num, opt_num};
use super::run::Run;

/// The "Training curves" section's body.
pub fn section(run: &Run) -> String {
    let mut figures = vec![loss_figure(run), metrics_figure(run)];
    if let Some(regularisation) = regularisation_figure(run) {
        figures.push(regularisation);
    }
    grid(&figures)
}

/// `(epoch, value)` points of one curve; `None` where the value is undefined.
type Series = Vec<(f64, Option<f64>)>;

/// `(epoch, value)` of one history field.
fn series(run: &Run, key: &str) -> Series {
    run.history
        .iter()
        .map(|e| (e.epoch as f64, e.get(key)))
        .collect()
}

fn epoch_axis(run: &Run) -> Axis {
    let first = run.history.first().map_or(1.0, |e| e.epoch as f64);
    let last = run.history.last().map_or(1.0, |e| e.epoch as f64);
    Axis::whole(first, last, "epoch")
}

/// The epoch whose weights were kept and, when early stopping ended the run, its last.
fn markers(run: &Run) -> (Option<f64>, Option<f64>) {
    let best = run.summary.best_epoch;
    let stop = match run.summary.stopped_early {
        Some(true) => run
            .summary
            .epochs_run
            .or_else(|| run.history.last().map(|e| e.epoch as f64)),
        _ => None,
    };
    (best, stop)
}

/// The best-epoch and early-stop markers, labelled at the top or the bottom of the plot
/// (wherever the curves leave room).
fn draw_markers<'a, 'b: 'a>(
    chart: &mut charts::Chart<'a, 'b>,
    run: &Run,
    y: &Axis,
    top: bool,
) -> charts::Drawing {
    let (best, stop) = markers(run);
    if let Some(best) = best {
        let label = format!("best · epoch {}", num(best));
        charts::vline(chart, best, y, GREEN, &label, top, 0)?;
    }
    if let Some(stop) = stop.filter(|s| Some(*s) != best) {
        let label = format!("stopped · epoch {}", num(stop));
        charts::vline(chart, stop, y, RED, &label, top, 16)?;
    }
    Ok(())
}

fn loss_figure(run: &Run) -> String {
    let train = series(run, "train_loss");
    let val = series(run, "val_loss");
    let x = epoch_axis(run);
    let y = Axis::values(train.iter().chain(&val).filter_map(|p| p.1), false, "loss");
    let svg = charts::svg(520, 330, "Loss per epoch", |root| {
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
        charts::line(&mut chart, &val, pen(BLUE, false))?;
        // Losses fall: the top of the plot is where there is room.
        draw_markers(&mut chart, run, &y, true)
    });
    let (best, stop) = markers(run);
    let mut caption = String::from(
        "<b>Loss per epoch.</b> Training loss (dashed) is averaged over each epoch's batches, \
         with dropout on; validation loss (solid) is measured after the epoch.",
    );
    if let Some(best) = best {
        let at = run
            .history
            .iter()
            .find(|e| e.epoch as f64 == best)
            .and_then(|e| e.get("val_loss"));
        caption.push_str(&format!(
            " The weights of epoch {} were kept (validation loss {}).",
            num(best),
            opt_num(at)
        ));
    }
    if let Some(stop) = stop {
        let patience = config_number(run, "patience")
            .map(|p| format!(" — no improvement for {} epochs", num(p)))
            .unwrap_or_default();
        caption.push_str(&format!(
            " Early stopping ended the run after epoch {}{patience}.",
            num(stop)
        ));
    }
    figure(&svg, &caption, false)
}

/// The metrics to follow: the monitored one (when it is a metric), macro-F1, accuracy.
fn watched_metrics(run: &Run) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(metric) = run
        .summary
        .monitor
        .as_deref()
        .and_then(|m| m.strip_prefix("val_"))
        .filter(|m| *m != "loss")
    {
        keys.push(metric.to_string());
    }
    for key in ["f1_macro", "accuracy"] {
        if !keys.iter().any(|k| k == key) {
            keys.push(key.to_string());
        }
    }
    keys
}

fn metrics_figure(run: &Run) -> String {
    let keys = watched_metrics(run);
    let lines: Vec<(String, Series, Series)> = keys
        .iter()
        .map(|k| {
            (
                metric_name(k),
                series(run, &format!("train_{k}")),
                series(run, &format!("val_{k}")),
            )
        })
        .collect();
    let x = epoch_axis(run);
    let y = Axis::values(
        lines
            .iter()
            .flat_map(|(_, t, v)| t.iter().chain(v))
            .filter_map(|p| p.1),
        false,
        "score",
    );
    // Blue, teal, purple: apart from the loss chart's orange, which means "training".
    let color = |i: usize| charts::series_color([0, 4, 5, 7][i % 4]);
    let svg = charts::svg(520, 330, "Metrics per epoch", |root| {
        let mut keys: Vec<(&str, Key)> = lines
            .iter()
            .enumerate()
            .map(|(i, (name, _, _))| (name.as_str(), Key::Swatch(color(i))))
            .collect();
        keys.push(("training", Key::Line(MUTED, true)));
        keys.push(("validation", Key::Line(MUTED, false)));
        let area = charts::key_row(root, &keys)?;
        let mut chart = charts::plane(&area, &x, &y)?;
        for (i, (_, train, val)) in lines.iter().enumerate() {
            let pen = |dashed| Pen {
                color: color(i),
                dashed,
                dots: true,
            };
            charts::line(&mut chart, train, pen(true))?;
            charts::line(&mut chart, val, pen(false))?;
        }
        // Scores rise: the bottom of the plot is where there is room.
        draw_markers(&mut chart, run, &y, false)
    });
    let names: Vec<String> = keys.iter().map(|k| metric_name(k)).collect();
    let monitored = match run.summary.monitor.as_deref() {
        Some(m) if m != "val_loss" => format!(
            " Early stopping watched <b>{}</b>.",
            esc(&metric_name(m.trim_start_matches("val_")))
        ),
        _ => String::new(),
    };
    let caption = format!(
        "<b>Scores per epoch:</b> {} on the training examples (dashed) and on validation \
         (solid). A widening gap means the model is learning its training set rather than \
         the task.{monitored}",
        esc(&names.join(", "))
    );
    figure(&svg, &caption, false)
}

/// The objective's two terms, when the run was regularised: the empirical risk (training
/// loss) and the penalty Ω(θ), whose parts live on very different scales, so each gets its
/// own panel.
fn regularisation_figure(run: &Run) -> Option<String> {
    let l1 = config_number(run, "l1").unwrap_or(0.0);
    let decay = config_number(run, "weight_decay").unwrap_or(0.0);
    if !(l1 > 0.0 || decay > 0.0) {
        return None;
    }
    let mut panels: Vec<(String, Series, usize)> = vec![(
        "Empirical risk R(θ): training loss".to_string(),
        series(run, "train_loss"),
        1,
    )];
    let mut missing = Vec::new();
    if l1 > 0.0 {
        let penalty = series(run, "penalty");
        if penalty.iter().any(|p| p.1.is_some()) {
            panels.push((format!("L1 term (λ₁ = {})", num(l1)), penalty, 0));
        } else {
            missing.push("the L1 term");
        }
    }
    if decay > 0.0 {
        let l2 = series(run, "l2_term");
        if l2.iter().any(|p| p.1.is_some()) {
            panels.push((
                format!("½·λ‖θ‖² (decoupled weight decay, λ = {})", num(decay)),
                l2,
                2,
            ));
        } else {
            missing.push("½·λ‖θ‖²");
        }
    }
    let x = epoch_axis(run);
    let count = panels.len();
    let svg = charts::svg(1000, 290, "Regularisation terms per epoch", |root| {
        let areas = root.split_evenly((1, count));
        for ((title, points, color), area) in panels.iter().zip(&areas) {
            let area = area.titled(title, charts::font(13.5))?;
            let y = Axis::values(points.iter().filter_map(|p| p.1), false, "");
            let mut chart = charts::plane(&area, &x, &y)?;
            let pen = Pen {
                color: charts::series_color(*color),
                dashed: false,
                dots: true,
            };
            charts::line(&mut chart, points, pen)?;
        }
        Ok(())
    });
    let mut caption = String::from(
        "<b>The regularised objective, term by term:</b> R(θ) + Ω(θ). The L1 term is added to \
         the loss; decoupled (AdamW) weight decay shrinks the weights directly instead, and \
         ½·λ‖θ‖² is shown for scale. A penalty that falls while the risk falls is the \
         regulariser doing its work; each panel has its own scale.",
    );
    if !missing.is_empty() {
        caption.push_str(&format!(
            " history.jsonl does not record {}.",
            missing.join(" or ")
        ));
    }
    Some(figure(&svg, &caption, true))
}
