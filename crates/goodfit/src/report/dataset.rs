//! The "Training data" section from `data.json` (`goodfit inspect --json`): how the classes
//! are split, how long the texts are, and what inspect warned about.

use plotters::style::RGBColor;
use serde_json::Value;

use super::blocks::{card, figure, grid, note, table};
use super::charts::{self, Axis, Key, BLUE, ORANGE};
use super::format::{esc, json_text, num, opt_num, pct};
use super::run::{Optional, Run};

/// The section's body, or `None` without data.json.
pub fn section(run: &Run) -> Option<String> {
    let data = match &run.data {
        Optional::Absent => return None,
        Optional::Unreadable(why) => return Some(note(why)),
        Optional::Present(data) => data,
    };
    let number = |v: &Value, key: &str| v.get(key).and_then(Value::as_f64);
    let train = classes(data.get("classes"));
    let test = classes(data.get("test").and_then(|t| t.get("classes")));

    let mut cards = vec![
        card("rows", &opt_num(number(data, "rows")), "", false),
        card("classes", &train.len().to_string(), "", false),
        card(
            "imbalance ratio",
            &opt_num(number(data, "imbalance_ratio")),
            "largest / smallest class",
            false,
        ),
    ];
    if let Some(dups) = data.get("duplicates") {
        cards.push(card(
            "duplicate rows",
            &opt_num(number(dups, "extra_rows")),
            &format!("in {} groups", opt_num(number(dups, "groups"))),
            false,
        ));
    }
    if let Optional::Present(audit) = &run.audit {
        cards.extend(audit_cards(audit));
    }
    let lengths = data.get("lengths");
    if let Some(lengths) = lengths {
        let unit = lengths.get("unit").and_then(Value::as_str).unwrap_or("");
        cards.push(card(
            "median length",
            &opt_num(number(lengths, "median")),
            unit,
            false,
        ));
    }
    if let Some(leak) = data.get("test").and_then(|t| t.get("leakage")) {
        cards.push(card(
            "test rows leaked",
            &opt_num(number(leak, "leaked_rows")),
            &format!("{} of the test file", pct(number(leak, "leaked_share"))),
            false,
        ));
    }
    let mut html = format!("<div class=\"cards kv\">{}</div>\n", cards.concat());

    let mut figures = Vec::new();
    if !train.is_empty() {
        figures.push(distribution_figure(&train, &test));
    }
    if let Some(lengths) = lengths {
        figures.push(lengths_table(lengths));
    }
    html.push_str(&grid(&figures));

    let warnings: Vec<String> = data
        .get("warnings")
        .and_then(Value::as_array)
        .map(|w| w.iter().map(json_text).collect())
        .unwrap_or_default();
    if !warnings.is_empty() {
        html.push_str("<h3>Warnings</h3>\n<ul class=\"warnings\">");
        for w in warnings {
            html.push_str(&format!("<li>{}</li>", esc(&w)));
        }
        html.push_str("</ul>\n");
    }
    Some(html)
}

/// A class of the data: `(label, count, share)`.
type Class = (String, f64, f64);

/// `(label, count, share)` of each class in a `classes` array.
fn classes(value: Option<&Value>) -> Vec<Class> {
    let Some(items) = value.and_then(Value::as_array) else {
        return Vec::new();
    };
    let total: f64 = items
        .iter()
        .filter_map(|c| c.get("count").and_then(Value::as_f64))
        .sum();
    items
        .iter()
        .filter_map(|c| {
            let label = c.get("label").map(|l| match l {
                Value::String(s) => s.clone(),
                other => json_text(other),
            })?;
            let count = c.get("count").and_then(Value::as_f64).unwrap_or(0.0);
            let share = c
                .get("share")
                .and_then(Value::as_f64)
                .unwrap_or(if total > 0.0 { count / total } else { 0.0 });
            Some((label, count, share))
        })
        .collect()
}

/// The audit's counts (`goodfit audit`, attached with `train --audit`).
fn audit_cards(audit: &crate::run_folder::summaries::RunAudit) -> Vec<String> {
    super::audit::count_cards(
        audit.rows,
        [
            audit.label,
            audit.near_duplicate,
            audit.leakage,
            audit.outlier,
        ],
        if audit.dropped > 0 {
            " · left out of training"
        } else {
            ""
        },
        "in the audit",
    )
}

fn distribution_figure(train: &[Class], test: &[Class]) -> String {
    let mut labels: Vec<String> = train.iter().map(|c| c.0.clone()).collect();
    for (label, _, _) in test {
        if !labels.contains(label) {
            labels.push(label.clone());
        }
    }
    let share_of =
        |set: &[Class], label: &str| set.iter().find(|c| c.0 == label).map(|c| (c.1, c.2));
    let sets: Vec<(&str, &[Class], RGBColor)> = if test.is_empty() {
        vec![("training", train, BLUE)]
    } else {
        vec![("training", train, BLUE), ("test", test, ORANGE)]
    };
    let n = labels.len();
    let x = Axis::categories(&labels, if n <= 5 { 16 } else { 8 }, "");
    let top = sets
        .iter()
        .flat_map(|(_, set, _)| set.iter().map(|c| c.2))
        .fold(0.0f64, f64::max);
    let y = Axis::values([0.0, top * 1.12], true, "share of rows");
    let svg = charts::svg(500, 320, "Class distribution", |root| {
        let keys: Vec<(&str, Key)> = sets
            .iter()
            .map(|(name, _, c)| (*name, Key::Swatch(*c)))
            .collect();
        let area = charts::key_row(root, &keys)?;
        let mut chart = charts::plane(&area, &x, &y)?;
        let width = 0.76 / sets.len() as f64;
        let mut rects = Vec::new();
        let mut texts = Vec::new();
        for (i, label) in labels.iter().enumerate() {
            for (k, (_, set, color)) in sets.iter().enumerate() {
                if let Some((count, share)) = share_of(set, label) {
                    let x0 = i as f64 - 0.38 + k as f64 * width;
                    rects.push(((x0 + 0.01, 0.0), (x0 + width - 0.01, share), *color));
                    if n <= 8 {
                        texts.push(((x0 + width / 2.0, share + top * 0.045), num(count)));
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
    let caption = "<b>Class distribution:</b> each class's share of the rows, with its count \
                   above the bar. Test shares far from training ones make validation scores a \
                   poor guide to test scores.";
    figure(&svg, caption, false)
}

fn lengths_table(lengths: &Value) -> String {
    let unit = lengths.get("unit").and_then(Value::as_str).unwrap_or("");
    let keys = [
        ("shortest", "min"),
        ("25th percentile", "p25"),
        ("median", "median"),
        ("75th percentile", "p75"),
        ("90th percentile", "p90"),
        ("95th percentile", "p95"),
        ("99th percentile", "p99"),
        ("longest", "max"),
        ("mean", "mean"),
    ];
    let mut rows: Vec<Vec<String>> = keys
        .iter()
        .map(|(name, key)| {
            let value = lengths.get(*key).and_then(Value::as_f64);
            vec![
                name.to_string(),
                opt_num(value.map(|v| (v * 10.0).round() / 10.0)),
            ]
        })
        .collect();
    if let Some(over) = lengths.get("over").and_then(Value::as_array) {
        for limit in over {
            let (Some(l), share) = (
                limit.get("limit").and_then(Value::as_f64),
                limit.get("share").and_then(Value::as_f64),
            ) else {
                continue;
            };
            rows.push(vec![format!("longer than {}", num(l)), pct(share)]);
        }
    }
    let caption = format!(
        "<b>Text lengths</b> in {}. Texts longer than the model's <code>max_len</code> are \
         truncated.",
        esc(if unit.is_empty() { "characters" } else { unit })
    );
    figure(&table(&["length", &esc(unit)], &rows, 1), &caption, false)
}
