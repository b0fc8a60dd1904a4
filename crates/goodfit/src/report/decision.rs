//! The "Decision rule" section: the cut-off or logit offsets the model predicts with, what
//! they changed against plain argmax, and the objective over the searched cut-offs.

use serde_json::Value;

use super::blocks::{figure, grid, note, table};
use super::charts::{self, Axis, Pen, BLUE, GREEN, ORANGE};
use super::format::{esc, metric_name, opt_num};
use super::run::{set_metrics, Run, SetMetrics};

/// The section's body, or `None` when the run predicts by argmax.
pub fn section(run: &Run) -> Option<String> {
    let doc = run.summary.decision.as_ref()?;
    let description = doc.get("description").and_then(Value::as_str).unwrap_or("");
    let objective = doc.get("objective").and_then(Value::as_str);
    let mut intro = format!(
        "<p>The saved model predicts with a decision rule instead of the most probable class: \
         <b>{}</b>. ",
        esc(description)
    );
    intro.push_str(&match objective {
        Some(o) => format!(
            "It was tuned on the validation set for {} (validation {} → {}); <code>goodfit predict</code> \
             applies it, <code>--argmax</code> turns it off, <code>goodfit decide</code> changes it.</p>\n",
            esc(&metric_name(o)),
            opt_num(doc.get("val_before").and_then(Value::as_f64)),
            opt_num(doc.get("val_after").and_then(Value::as_f64)),
        ),
        None => "It is post-hoc logit adjustment: the log training prior, times τ, is \
                 subtracted from the log-probabilities, so frequent classes lose their head \
                 start.</p>\n"
            .into(),
    });
    if objective.is_some_and(|o| o.starts_with("cost:")) {
        intro.push_str(&note("For a cost objective lower is better."));
    }
    let comparisons = [
        (
            "validation",
            doc.get("val_argmax"),
            run.summary.val.as_ref(),
        ),
        ("test", doc.get("test_argmax"), run.summary.test.as_ref()),
    ];
    let mut head = vec!["metric".to_string()];
    let mut columns: Vec<(SetMetrics, &SetMetrics)> = Vec::new();
    for (name, argmax, ruled) in comparisons {
        if let (Some(argmax), Some(ruled)) = (argmax.and_then(set_metrics), ruled) {
            head.push(format!("{name}: argmax"));
            head.push(format!("{name}: rule"));
            columns.push((argmax, ruled));
        }
    }
    let mut keys: Vec<(String, String)> = [
        "f1_macro",
        "balanced_accuracy",
        "accuracy",
        "geometric_mean",
    ]
    .iter()
    .map(|k| (k.to_string(), metric_name(k)))
    .collect();
    if let Some((_, ruled)) = columns.first() {
        for class in &ruled.per_class {
            keys.push((
                format!("recall:{}", class.label),
                format!("recall of {}", class.label),
            ));
        }
    }
    let value = |m: &SetMetrics, key: &str| match key.strip_prefix("recall:") {
        Some(label) => m
            .per_class
            .iter()
            .find(|c| c.label == label)
            .and_then(|c| c.recall),
        None => m.get(key),
    };
    let rows: Vec<Vec<String>> = keys
        .iter()
        .map(|(key, name)| {
            let mut row = vec![esc(name)];
            for (argmax, ruled) in &columns {
                row.push(opt_num(value(argmax, key)));
                row.push(opt_num(value(ruled, key)));
            }
            row
        })
        .collect();
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let mut html = intro;
    let mut parts = vec![table(&head, &rows, 1)];
    if let Some(svg) = curve_svg(doc) {
        let caption = if description.starts_with("predict") {
            "<b>Cut-off search.</b> The objective on the validation set at every distinct \
             score used as the cut-off; the chosen one is marked, and 0.5 (argmax) for reference."
        } else {
            "<b>Offset search.</b> The objective on the validation set after each accepted \
             change of a class's offset (coordinate ascent)."
        };
        parts.insert(0, figure(&svg, caption, false));
    }
    html.push_str(&grid(&parts));
    Some(html)
}

/// The objective over the search: against the cut-off for two classes, against accepted
/// changes for more.
fn curve_svg(doc: &Value) -> Option<String> {
    let points: Vec<(f64, Option<f64>)> = doc
        .get("curve")?
        .as_array()?
        .iter()
        .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64())))
        .collect();
    if points.len() < 2 {
        return None;
    }
    let objective = metric_name(doc.get("objective")?.as_str()?);
    let cutoff = doc
        .get("rule")
        .and_then(|r| r.get("cutoff"))
        .and_then(Value::as_f64);
    let x = match cutoff {
        Some(_) => Axis::unit("cut-off on p(positive)"),
        None => Axis::values(points.iter().map(|p| p.0), true, "accepted change"),
    };
    let y = Axis::values(points.iter().filter_map(|p| p.1), false, &objective);
    let title = format!("{objective} on validation over the decision-rule search");
    Some(charts::svg(520, 330, &title, |root| {
        let mut chart = charts::plane(root, &x, &y)?;
        charts::line(
            &mut chart,
            &points,
            Pen {
                color: BLUE,
                dashed: false,
                dots: cutoff.is_none(),
            },
        )?;
        if let Some(c) = cutoff {
            charts::vline(&mut chart, 0.5, &y, ORANGE, "argmax", false, 0)?;
            charts::vline(&mut chart, c, &y, GREEN, &format!("chosen {c:.3}"), true, 0)?;
        }
        Ok(())
    }))
}
