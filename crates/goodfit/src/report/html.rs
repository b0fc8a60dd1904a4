//! The page around the charts: the skeleton and its inline style sheet, the header with the
//! run's headline numbers, and the settings table.

use super::blocks::{card, note, table};
use super::format::{duration, esc, num, opt_num};
use super::run::Run;

/// One section of the report: an anchor id, a heading and its HTML body.
#[derive(Debug, Clone)]
pub struct Section {
    /// The anchor (`#curves`), also the section element's id.
    pub id: &'static str,
    /// The heading.
    pub title: &'static str,
    /// The body, already escaped.
    pub body: String,
}

/// The whole page: header, a table of contents, then the sections in order.
pub fn page(run: &Run, sections: &[Section]) -> String {
    let name = run
        .dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| run.dir.display().to_string());
    document(
        &format!("goodfit report · {name}"),
        &header(run, &name),
        sections,
        "Written by goodfit from the files in this run folder.",
    )
}

/// A self-contained page (its style sheet inline): `header` (HTML), a table of contents,
/// the sections, and `footer` (plain text); `title` names the browser tab.
pub fn document(title: &str, header: &str, sections: &[Section], footer: &str) -> String {
    let mut html = String::with_capacity(256 * 1024);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    html.push_str(&format!("<title>{}</title>\n", esc(title)));
    html.push_str("<style>\n");
    html.push_str(CSS);
    html.push_str("</style>\n</head>\n<body>\n<main>\n");
    html.push_str(header);
    html.push_str("<nav>");
    for s in sections {
        html.push_str(&format!("<a href=\"#{}\">{}</a>", s.id, s.title));
    }
    html.push_str("</nav>\n");
    for s in sections {
        html.push_str(&format!(
            "<section id=\"{}\">\n<h2>{}</h2>\n{}\n</section>\n",
            s.id, s.title, s.body
        ));
    }
    html.push_str(&format!("<footer>{}</footer>\n", esc(footer)));
    html.push_str("</main>\n</body>\n</html>\n");
    html
}

/// The title, what was trained on what, and the headline numbers as cards.
fn header(run: &Run, name: &str) -> String {
    let s = &run.summary;
    let text = |key: &str| run.config.get(key).and_then(|v| v.as_str()).map(esc);
    let mut subtitle = Vec::new();
    if let Some(model) = text("model") {
        subtitle.push(format!("model <b>{model}</b>"));
    }
    if let Some(train) = text("train") {
        subtitle.push(format!("trained on <b>{train}</b>"));
    }
    let mut cards = Vec::new();
    let metric = |set: Option<&super::run::SetMetrics>, key: &str| set.and_then(|m| m.get(key));
    cards.push(card(
        "val macro-F1",
        &opt_num(metric(s.val.as_ref(), "f1_macro")),
        "",
        true,
    ));
    cards.push(card(
        "val accuracy",
        &opt_num(metric(s.val.as_ref(), "accuracy")),
        "",
        false,
    ));
    if s.test.is_some() {
        cards.push(card(
            "test macro-F1",
            &opt_num(metric(s.test.as_ref(), "f1_macro")),
            "",
            true,
        ));
        cards.push(card(
            "test accuracy",
            &opt_num(metric(s.test.as_ref(), "accuracy")),
            "",
            false,
        ));
    }
    let epochs_run = s
        .epochs_run
        .or_else(|| run.history.last().map(|e| e.epoch as f64));
    cards.push(card(
        "best epoch",
        &opt_num(s.best_epoch),
        &format!("of {} run", opt_num(epochs_run)),
        false,
    ));
    let (stopped, detail) = match s.stopped_early {
        Some(true) => ("yes", format!("after epoch {}", opt_num(epochs_run))),
        Some(false) => ("no", "ran every epoch".to_string()),
        None => ("—", String::new()),
    };
    cards.push(card("stopped early", stopped, &detail, false));
    cards.push(card(
        "time",
        &short_duration(s.seconds),
        &duration(s.seconds),
        false,
    ));
    let monitor = s
        .monitor
        .as_deref()
        .map(|m| format!(" · best epoch chosen by <b>{}</b>", esc(m)))
        .unwrap_or_default();
    format!(
        "<header>\n<p class=\"eyebrow\">goodfit training report</p>\n<h1>{}</h1>\n<p class=\"sub\">{}{}</p>\n<div class=\"cards\">{}</div>\n{}</header>\n",
        esc(name),
        subtitle.join(" · "),
        monitor,
        cards.join(""),
        super::verdicts::headline(run),
    )
}

/// A duration short enough for a card: `4.2 s`, `23 min`, `1.5 h`.
fn short_duration(seconds: Option<f64>) -> String {
    match seconds.filter(|s| s.is_finite() && *s >= 0.0) {
        Some(s) if s < 60.0 => duration(Some(s)),
        Some(s) if s < 3600.0 => format!("{} min", (s / 60.0).round()),
        Some(s) => format!("{} h", num((s / 360.0).round() / 10.0)),
        None => duration(None),
    }
}

/// The main settings of the run as a table, and every setting behind a disclosure.
pub fn settings(run: &Run) -> String {
    const GROUPS: [(&str, &[&str]); 5] = [
        (
            "model and data",
            &[
                "model",
                "train",
                "val",
                "test",
                "val_fraction",
                "train_layers",
                "pooling",
                "head_hidden",
                "max_len",
            ],
        ),
        (
            "optimisation",
            &[
                "epochs",
                "batch_size",
                "grad_accum",
                "lr",
                "head_lr",
                "warmup",
                "schedule",
                "grad_clip",
                "seed",
            ],
        ),
        (
            "regularisation",
            &["weight_decay", "l1", "dropout", "label_smoothing"],
        ),
        (
            "few-sample recipes",
            &[
                "init_head",
                "layer_lr_decay",
                "reinit_layers",
                "swa_epochs",
                "rdrop",
                "gradual_unfreeze",
                "mixup",
                "eda_copies",
                "eda_alpha",
            ],
        ),
        ("early stopping", &["patience", "min_delta", "monitor"]),
    ];
    let row = |key: &str, value: &toml::Value| {
        vec![format!("<code>{}</code>", esc(key)), esc(&toml_text(value))]
    };
    let mut html = String::from("<div class=\"tables settings\">\n");
    let mut shown = 0;
    for (group, keys) in GROUPS {
        let rows: Vec<Vec<String>> = keys
            .iter()
            .filter_map(|k| run.config.get(*k).map(|v| row(k, v)))
            .collect();
        if !rows.is_empty() {
            shown += rows.len();
            html.push_str(&table(&[group, "value"], &rows, 99));
        }
    }
    html.push_str("</div>\n");
    if shown == 0 {
        html = note("config.toml names none of the usual settings.");
    }
    let all: Vec<Vec<String>> = run.config.iter().map(|(k, v)| row(k, v)).collect();
    html.push_str(&format!(
        "<details><summary>All {} settings in config.toml</summary>\n{}</details>\n",
        all.len(),
        table(&["setting", "value"], &all, 99)
    ));
    html
}

/// A TOML value as plain text: numbers through [`num`], strings bare.
pub fn toml_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => num(*f),
        toml::Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// The style sheet: a centred column, system fonts, quiet colours, tables with hairlines.
const CSS: &str = r#"
:root {
  --ink: #24292f; --muted: #667085; --line: #e4e7ec; --bg: #f7f8fa; --card: #ffffff;
  --blue: #4e79a7; --orange: #f28e2b; --green: #59a14f; --red: #e15759; --purple: #b07aa1;
  --amber: #c98a06;
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body {
  margin: 0; color: var(--ink); font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; -webkit-font-smoothing: antialiased;
}
main { max-width: 1080px; margin: 0 auto; padding: 32px 24px 48px; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { margin-bottom: 8px; }
.eyebrow { margin: 0; color: var(--muted); font-size: 13px; letter-spacing: .06em; text-transform: uppercase; }
h1 { margin: 2px 0 4px; font-size: 28px; font-weight: 650; word-break: break-all; }
.sub { margin: 0 0 18px; color: var(--muted); }
.sub b { color: var(--ink); font-weight: 550; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(132px, 1fr)); gap: 10px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 10px 14px; }
.card .k { color: var(--muted); font-size: 12.5px; }
.card .v { font-size: 24px; font-weight: 650; font-variant-numeric: tabular-nums; line-height: 1.25; }
.card.key .v { color: var(--blue); }
.card .d { color: var(--muted); font-size: 12px; min-height: 1em; }
.headline { margin: 14px 0 0; display: flex; flex-wrap: wrap; gap: 8px 18px; align-items: center; }
.headline .k { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .05em; }
.headline .pair { display: inline-flex; gap: 5px; }
nav { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: 4px 18px;
  margin: 22px -24px 0; padding: 10px 24px; background: rgba(247, 248, 250, .94);
  border-bottom: 1px solid var(--line); font-size: 14px; }
nav a { color: var(--muted); text-decoration: none; }
nav a:hover { color: var(--blue); }
section { margin-top: 34px; }
h2 { font-size: 20px; font-weight: 650; margin: 0 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; font-weight: 600; margin: 22px 0 8px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 16px; }
figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 12px 10px; min-width: 0; }
figure.wide { grid-column: 1 / -1; }
figure svg { display: block; width: 100%; height: auto; max-width: 100%; }
figure .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }
figcaption { color: var(--muted); font-size: 13.5px; margin-top: 6px; }
figcaption b { color: var(--ink); font-weight: 600; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0 18px; }
.tile { width: 96px; padding: 6px; text-align: center; }
.tile img { width: 64px; height: 64px; object-fit: contain; image-rendering: pixelated; background: #000; }
.tile figcaption { font-size: 12px; margin-top: 4px; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; background: var(--card); font-size: 14px;
  border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
th, td { text-align: left; padding: 6px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f2f4f7; font-weight: 600; font-size: 13px; color: #475467; }
tbody tr:last-child td { border-bottom: 0; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.tables { display: grid; grid-template-columns: repeat(auto-fit, minmax(400px, 1fr)); gap: 16px; align-items: start; }
.tables.settings { grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); }
.tables.settings td:last-child { word-break: break-word; }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef1f5; padding: 1px 5px; border-radius: 4px; }
details { margin-top: 12px; }
summary { cursor: pointer; color: var(--muted); font-size: 14px; margin-bottom: 8px; }
.note { background: #fff8e6; border: 1px solid #f3dfa8; color: #7a5a00; border-radius: 8px; padding: 8px 12px; font-size: 14px; }
ul.warnings { margin: 8px 0 0; padding: 0; list-style: none; }
ul.warnings li { background: #fff8e6; border-left: 3px solid var(--amber); padding: 6px 12px; margin: 6px 0; border-radius: 0 6px 6px 0; font-size: 14px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: 12.5px; font-weight: 600; color: #fff; white-space: nowrap; }
.badge.overfitting { background: var(--red); }
.badge.underfitting { background: var(--purple); }
.badge.not_converged { background: var(--amber); }
.badge.imbalance_bias { background: var(--orange); }
.badge.good_fit { background: var(--green); }
.badge.other { background: var(--muted); }
.badge.sev { background: transparent; border: 1px solid currentColor; }
.sev.low { color: var(--muted); } .sev.medium { color: var(--amber); } .sev.high { color: var(--red); }
.verdict { background: var(--card); border: 1px solid var(--line); border-left: 4px solid var(--muted); border-radius: 10px; padding: 14px 18px; margin-bottom: 14px; }
.verdict.overfitting { border-left-color: var(--red); }
.verdict.underfitting { border-left-color: var(--purple); }
.verdict.not_converged { border-left-color: var(--amber); }
.verdict.imbalance_bias { border-left-color: var(--orange); }
.verdict.good_fit { border-left-color: var(--green); }
.verdict .summary { font-size: 15.5px; margin: 8px 0 10px; }
.verdict dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 10px; font-size: 13.5px; }
.verdict dt { color: var(--muted); }
.verdict dd { margin: 0; font-variant-numeric: tabular-nums; }
.remedies { margin: 0; padding: 0; list-style: none; }
.remedies li { margin: 6px 0; font-size: 14px; }
.remedies code { user-select: all; background: #e8f0f8; color: #1f4e86; font-size: 13.5px; }
.kv { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin-bottom: 14px; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; text-align: center; }
@media (max-width: 560px) { .grid { grid-template-columns: 1fr; } figure .pair { grid-template-columns: 1fr; } }
@media print { nav { position: static; } figure, .verdict { break-inside: avoid; } }
"#;
