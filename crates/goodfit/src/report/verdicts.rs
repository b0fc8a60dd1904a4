//! The diagnosis (`diagnosis.json`): each verdict as a card with its kind and severity, the
//! summary in plain words, the evidence, and remedies as flags to copy.

use serde_json::Value;

use super::blocks::note;
use super::format::{esc, json_text};
use super::run::{Optional, Run};

/// Kinds the style sheet colours; anything else is shown in grey.
const KINDS: [(&str, &str); 5] = [
    ("overfitting", "Overfitting"),
    ("underfitting", "Underfitting"),
    ("not_converged", "Not converged"),
    ("imbalance_bias", "Imbalance bias"),
    ("good_fit", "Good fit"),
];

/// Severities the style sheet colours.
const SEVERITIES: [&str; 3] = ["low", "medium", "high"];

fn verdicts(run: &Run) -> Vec<&Value> {
    run.diagnosis
        .get()
        .and_then(|d| d.get("verdicts"))
        .and_then(Value::as_array)
        .map(|v| v.iter().filter(|v| v.is_object()).collect())
        .unwrap_or_default()
}

/// The kind's CSS class (a fixed word, never text from the file) and its display name.
fn kind(verdict: &Value) -> (&'static str, String) {
    let raw = verdict.get("kind").and_then(Value::as_str).unwrap_or("");
    match KINDS.iter().find(|(k, _)| *k == raw) {
        Some((class, name)) => (class, name.to_string()),
        None if raw.is_empty() => ("other", "Verdict".to_string()),
        None => ("other", raw.replace('_', " ")),
    }
}

fn badges(verdict: &Value) -> String {
    let (class, name) = kind(verdict);
    let mut html = format!("<span class=\"badge {class}\">{}</span>", esc(&name));
    if let Some(severity) = verdict.get("severity").and_then(Value::as_str) {
        let class = SEVERITIES
            .iter()
            .find(|s| **s == severity)
            .copied()
            .unwrap_or("low");
        html.push_str(&format!(
            " <span class=\"badge sev {class}\">{} severity</span>",
            esc(severity)
        ));
    }
    html
}

/// The verdicts' badges for the page header ("" without a diagnosis).
pub fn headline(run: &Run) -> String {
    let all = verdicts(run);
    if all.is_empty() {
        return String::new();
    }
    let items: Vec<String> = all
        .iter()
        .map(|v| format!("<span class=\"pair\">{}</span>", badges(v)))
        .collect();
    format!(
        "<div class=\"headline\"><span class=\"k\">Diagnosis</span> {}</div>\n",
        items.join(" ")
    )
}

/// The "Diagnosis" section's body, or `None` without diagnosis.json.
pub fn section(run: &Run) -> Option<String> {
    match &run.diagnosis {
        Optional::Absent => return None,
        Optional::Unreadable(why) => return Some(note(why)),
        Optional::Present(_) => {}
    }
    let all = verdicts(run);
    if all.is_empty() {
        return Some(note("diagnosis.json holds no verdicts."));
    }
    Some(all.iter().map(|v| card(v)).collect())
}

fn card(verdict: &Value) -> String {
    let (class, _) = kind(verdict);
    let summary = verdict.get("summary").map(json_text).unwrap_or_default();
    let mut html = format!(
        "<article class=\"verdict {class}\">\n<div>{}</div>\n<p class=\"summary\">{}</p>\n",
        badges(verdict),
        esc(&summary)
    );
    match verdict.get("evidence") {
        Some(Value::Object(evidence)) if !evidence.is_empty() => {
            html.push_str("<dl>");
            for (key, value) in evidence {
                html.push_str(&format!(
                    "<dt>{}</dt><dd>{}</dd>",
                    esc(&key.replace('_', " ")),
                    esc(&json_text(value))
                ));
            }
            html.push_str("</dl>\n");
        }
        Some(Value::Null) | None => {}
        Some(other) => html.push_str(&format!(
            "<dl><dt>evidence</dt><dd>{}</dd></dl>\n",
            esc(&json_text(other))
        )),
    }
    let remedies: Vec<&Value> = verdict
        .get("remedies")
        .and_then(Value::as_array)
        .map(|r| r.iter().collect())
        .unwrap_or_default();
    if !remedies.is_empty() {
        html.push_str("<div class=\"k\">Try:</div>\n<ul class=\"remedies\">");
        for remedy in remedies {
            let flags = remedy.get("flags").and_then(Value::as_str).unwrap_or("");
            let why = remedy.get("why").map(json_text).unwrap_or_default();
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!("<code>{}</code> ", esc(flags))
            };
            let why = if why.is_empty() {
                String::new()
            } else {
                format!("— {}", esc(&why))
            };
            html.push_str(&format!("<li>{flags}{why}</li>"));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</article>\n");
    html
}
