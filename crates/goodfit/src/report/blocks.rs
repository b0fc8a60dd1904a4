//! Small builders every section shares: headline cards, figures and their grid, notes,
//! tables, and reading a number setting of the run.

use super::format::esc;
use super::run::Run;

/// A headline number.
pub fn card(title: &str, value: &str, detail: &str, key: bool) -> String {
    format!(
        "<div class=\"card{}\"><div class=\"k\">{}</div><div class=\"v\">{}</div><div class=\"d\">{}</div></div>",
        if key { " key" } else { "" },
        esc(title),
        esc(value),
        esc(detail)
    )
}

/// A chart (or any block) with its caption; `caption` is HTML, already escaped. `wide`
/// figures take the whole row.
pub fn figure(content: &str, caption: &str, wide: bool) -> String {
    format!(
        "<figure{}>\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
        if wide { " class=\"wide\"" } else { "" },
        content,
        caption
    )
}

/// Figures laid out in a responsive grid.
pub fn grid(figures: &[String]) -> String {
    format!("<div class=\"grid\">\n{}</div>\n", figures.concat())
}

/// A notice in place of something that could not be shown; `text` is plain text.
pub fn note(text: &str) -> String {
    format!("<p class=\"note\">{}</p>\n", esc(text))
}

/// A table; the header and cells are HTML, already escaped. Cells that look numeric are
/// right-aligned by the style sheet through `class="n"`.
pub fn table(head: &[&str], rows: &[Vec<String>], numeric_from: usize) -> String {
    let mut html = String::from("<table>\n<thead><tr>");
    for (i, h) in head.iter().enumerate() {
        html.push_str(&format!("<th{}>{h}</th>", numeric_class(i, numeric_from)));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        html.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            html.push_str(&format!(
                "<td{}>{cell}</td>",
                numeric_class(i, numeric_from)
            ));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n");
    html
}

fn numeric_class(i: usize, numeric_from: usize) -> &'static str {
    if i >= numeric_from {
        " class=\"n\""
    } else {
        ""
    }
}

/// A number setting of config.toml (integers too); `None` when absent or not a number.
pub fn config_number(run: &Run, key: &str) -> Option<f64> {
    match run.config.get(key)? {
        toml::Value::Float(f) => Some(*f),
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
