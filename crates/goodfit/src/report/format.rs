//! Text for the page: HTML escaping and numbers a person can read at a glance.

use serde_json::Value;

/// The mark shown for a value that is undefined (JSON `null`, NaN, missing).
pub const UNDEFINED: &str = "—";

/// Escapes text from a run's files for HTML text and attribute values, so that a label such
/// as `<b>` shows as written instead of becoming markup.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A number with 4 significant digits (trailing zeros dropped); from 1,000 up, a whole
/// number with thousands separators; very small or very large ones in scientific notation
/// (`1e-4`); undefined ones as "—".
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return UNDEFINED.to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let magnitude = x.abs();
    if (1e3..1e12).contains(&magnitude) {
        return group_thousands(x.round() as i64);
    }
    if !(1e-3..1e12).contains(&magnitude) {
        // `{:.3e}` gives `7.430e-5`: drop the zeros of the mantissa.
        let text = format!("{x:.3e}");
        return match text.split_once('e') {
            Some((mantissa, exponent)) => format!("{}e{exponent}", trim_zeros(mantissa)),
            None => text,
        };
    }
    let digits_before_point = magnitude.log10().floor() as i32 + 1;
    let decimals = (4 - digits_before_point).max(0) as usize;
    trim_zeros(&format!("{x:.decimals$}")).to_string()
}

/// `x` rounded to `digits` significant digits (tick labels on a log axis).
pub fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// [`num`] of an optional value.
pub fn opt_num(x: Option<f64>) -> String {
    x.map_or_else(|| UNDEFINED.to_string(), num)
}

/// A share (0–1) as a percentage with one decimal, or "—".
pub fn pct(x: Option<f64>) -> String {
    match x {
        Some(x) if x.is_finite() => format!("{:.1}%", x * 100.0),
        _ => UNDEFINED.to_string(),
    }
}

/// A number of seconds as `11 min 35 s` (or `1 h 2 min`, `4.2 s`).
pub fn duration(seconds: Option<f64>) -> String {
    let Some(s) = seconds.filter(|s| s.is_finite() && *s >= 0.0) else {
        return UNDEFINED.to_string();
    };
    if s < 60.0 {
        return format!("{} s", num((s * 10.0).round() / 10.0));
    }
    let whole = s.round() as u64;
    let (h, m, sec) = (whole / 3600, whole % 3600 / 60, whole % 60);
    if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min {sec} s")
    }
}

/// `text` cut to at most `max` characters (an ellipsis marks the cut), for chart labels
/// that must fit under a bar.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// A JSON value as short plain text: numbers through [`num`], strings as they are, arrays
/// and objects compactly (`a: 1, b: 2`), null as "—". Not escaped.
pub fn json_text(value: &Value) -> String {
    match value {
        Value::Null => UNDEFINED.to_string(),
        Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), num),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(json_text).collect::<Vec<_>>().join(", "),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", json_text(v)))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A metric key as people say it (`f1_macro` → "macro-F1").
pub fn metric_name(key: &str) -> String {
    let name = match key {
        "accuracy" => "accuracy",
        "balanced_accuracy" => "balanced accuracy",
        "precision_macro" => "macro precision",
        "recall_macro" => "macro recall",
        "f1_macro" => "macro-F1",
        "precision_weighted" => "weighted precision",
        "recall_weighted" => "weighted recall",
        "f1_weighted" => "weighted F1",
        "precision_micro" => "micro precision",
        "recall_micro" => "micro recall",
        "f1_micro" => "micro-F1",
        "mcc" => "MCC",
        "cohen_kappa" => "Cohen's κ",
        "geometric_mean" => "G-mean",
        "roc_auc" => "ROC-AUC",
        "average_precision" => "average precision",
        "log_loss" => "log loss",
        "brier" => "Brier score",
        "ece" => "ECE",
        "loss" => "loss",
        other => return other.replace('_', " "),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(num(0.8180765732241793), "0.8181");
        assert_eq!(num(0.835), "0.835");
        assert_eq!(num(694.587), "694.6");
        assert_eq!(num(0.0001), "1e-4");
        assert_eq!(num(7.43e-5), "7.43e-5");
        assert_eq!(num(1771776.0), "1,771,776");
        assert_eq!(num(1825.06), "1,825");
        assert_eq!(num(770.0), "770");
        assert_eq!(round_sig(0.0019999, 3), 0.002);
        assert_eq!(num(-0.5), "-0.5");
        assert_eq!(num(f64::NAN), "—");
        assert_eq!(duration(Some(695.1)), "11 min 35 s");
        assert_eq!(duration(Some(4.24)), "4.2 s");
        assert_eq!(esc("<b>&\"x\"'"), "&lt;b&gt;&amp;&quot;x&quot;&#39;");
        assert_eq!(truncate("encoder.layer.5", 8), "encoder…");
    }
}
