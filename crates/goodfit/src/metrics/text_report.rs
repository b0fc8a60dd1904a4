//! The human-readable report: imbalanced-learn's per-class table followed by the summary
//! metrics.

use std::fmt::Write as _;

use super::classification::specificity;
use super::confusion::ConfusionMatrix;
use super::Metrics;

/// The `alpha` of the index balanced accuracy, imbalanced-learn's default in
/// `classification_report_imbalanced` (with `squared=True`).
pub const IBA_ALPHA: f64 = 0.1;

/// One row of imbalanced-learn's `classification_report_imbalanced`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImbalancedRow {
    /// Precision (`pre`).
    pub precision: f64,
    /// Recall, also called sensitivity (`rec`).
    pub recall: f64,
    /// Specificity tn / (tn + fp) (`spe`).
    pub specificity: f64,
    /// F1 (`f1`).
    pub f1: f64,
    /// `sqrt(recall · specificity)`, imbalanced-learn's per-class `geometric_mean_score`
    /// with `average=None` (`geo`).
    pub geometric_mean: f64,
    /// Index balanced accuracy `(1 + α·(recall − specificity)) · geo²` with α = [`IBA_ALPHA`]
    /// (`iba`).
    pub iba: f64,
    /// Number of true examples (`sup`); for the average row, the total.
    pub support: u64,
}

/// The rows of imbalanced-learn's report: one per class in label order, then the
/// `avg / total` row (every column averaged with the supports as weights, `np.average(x,
/// weights=support)`; support summed).
///
/// `None` if `m` is not consistent (a confusion matrix that is not square, counts nothing,
/// or does not match `per_class`), which [`compute`](super::compute) never produces.
pub fn imbalanced_rows(m: &Metrics) -> Option<(Vec<ImbalancedRow>, ImbalancedRow)> {
    let cm = ConfusionMatrix::from_counts(m.confusion_matrix.clone()).ok()?;
    if cm.n_classes() != m.per_class.len() {
        return None;
    }
    let rows: Vec<ImbalancedRow> = m
        .per_class
        .iter()
        .zip(specificity(&cm))
        .map(|(scores, spe)| {
            // imbalanced-learn squares the G-mean with np.power(geo, 2) rather than using
            // recall·specificity directly; do the same so rounding matches.
            let geo = (scores.recall * spe).sqrt();
            ImbalancedRow {
                precision: scores.precision,
                recall: scores.recall,
                specificity: spe,
                f1: scores.f1,
                geometric_mean: geo,
                iba: (1.0 + IBA_ALPHA * (scores.recall - spe)) * (geo * geo),
                support: scores.support,
            }
        })
        .collect();
    let total: u64 = rows.iter().map(|r| r.support).sum();
    if total == 0 {
        return None;
    }
    let average = |f: fn(&ImbalancedRow) -> f64| {
        rows.iter().map(|r| f(r) * r.support as f64).sum::<f64>() / total as f64
    };
    let avg = ImbalancedRow {
        precision: average(|r| r.precision),
        recall: average(|r| r.recall),
        specificity: average(|r| r.specificity),
        f1: average(|r| r.f1),
        geometric_mean: average(|r| r.geometric_mean),
        iba: average(|r| r.iba),
        support: total,
    };
    Some((rows, avg))
}

/// Formats one table line the way imbalanced-learn does: the name right-aligned in
/// `width`, two spaces, then each column right-aligned in 9 characters, space-separated.
fn table_line(out: &mut String, width: usize, name: &str, cells: &[String]) {
    let cells: Vec<String> = cells.iter().map(|c| format!("{c:>9}")).collect();
    let _ = writeln!(out, "{name:>width$}  {}", cells.join(" "));
}

/// The cells of one row with imbalanced-learn's default `digits=2`.
fn row_cells(row: &ImbalancedRow) -> Vec<String> {
    let mut cells: Vec<String> = [
        row.precision,
        row.recall,
        row.specificity,
        row.f1,
        row.geometric_mean,
        row.iba,
    ]
    .iter()
    .map(|v| format!("{v:.2}"))
    .collect();
    cells.push(row.support.to_string());
    cells
}

/// A metric value for the summary lines, `undefined` when it is `None`.
fn value(v: Option<f64>) -> String {
    match v {
        Some(v) => format!("{v:.4}"),
        None => "undefined".to_string(),
    }
}

/// A text report of `m`.
///
/// First a per-class table laid out like imbalanced-learn's
/// `classification_report_imbalanced` (columns `pre rec spe f1 geo iba sup`, two decimals,
/// last row `avg / total` weighted by support), then one line each for accuracy, balanced
/// accuracy, macro F1, MCC, Cohen's kappa and G-mean and — when probabilities were scored
/// — ROC-AUC, average precision, log-loss, Brier (binary problems only) and ECE, with
/// undefined values shown as `undefined`.
pub fn text_report(m: &Metrics) -> String {
    let mut out = String::new();
    let names: Vec<String> = m.labels.iter().map(ToString::to_string).collect();
    let last = "avg / total";
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .max(last.len())
        .max(2);
    match imbalanced_rows(m) {
        Some((rows, avg)) if rows.len() == names.len() => {
            let headers: Vec<String> = ["pre", "rec", "spe", "f1", "geo", "iba", "sup"]
                .iter()
                .map(ToString::to_string)
                .collect();
            table_line(&mut out, width, "", &headers);
            out.push('\n');
            for (name, row) in names.iter().zip(&rows) {
                table_line(&mut out, width, name, &row_cells(row));
            }
            out.push('\n');
            table_line(&mut out, width, last, &row_cells(&avg));
        }
        _ => out.push_str("(no per-class table: the confusion matrix is inconsistent)\n"),
    }

    let mut lines: Vec<(&str, String)> = vec![
        ("accuracy", value(Some(m.accuracy))),
        ("balanced accuracy", value(m.balanced_accuracy)),
        ("macro F1", value(Some(m.f1_macro))),
        ("MCC", value(m.mcc)),
        ("Cohen's kappa", value(m.cohen_kappa)),
        ("G-mean", value(m.geometric_mean)),
    ];
    // `compute` always sets the ECE when probabilities were given, so any probability
    // metric being defined means they were scored.
    let scored_proba = [m.roc_auc, m.average_precision, m.log_loss, m.brier, m.ece]
        .iter()
        .any(Option::is_some);
    if scored_proba {
        lines.push(("ROC-AUC", value(m.roc_auc)));
        lines.push(("average precision", value(m.average_precision)));
        lines.push(("log-loss", value(m.log_loss)));
        if m.labels.len() == 2 {
            lines.push(("Brier", value(m.brier)));
        }
        lines.push(("ECE", value(m.ece)));
    }
    out.push('\n');
    for (name, v) in lines {
        let _ = writeln!(out, "{name:<18} {v}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Label, LabelMap};
    use crate::metrics::compute;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    // Reference: imblearn.metrics.classification_report_imbalanced(
    //     [0,0,0,1,1,2], [0,1,0,1,2,2], labels=[0,1,2,3], output_dict=True)
    // (imbalanced-learn 0.14.2; per-class spe/geo/iba and the avg_* entries).
    #[test]
    fn rows_match_imbalanced_learn() {
        let labels = LabelMap::from_ordered((0..4).map(Label::Int).collect());
        let m = compute(&[0, 0, 0, 1, 1, 2], &[0, 1, 0, 1, 2, 2], None, &labels).unwrap();
        let (rows, avg) = imbalanced_rows(&m).unwrap();
        let spe = [1.0, 0.75, 0.8, 1.0];
        let geo = [
            0.816496580927726,
            0.6123724356957945,
            0.8944271909999159,
            0.0,
        ];
        let iba = [0.6444444444444444, 0.3656249999999999, 0.816, 0.0];
        for k in 0..4 {
            close(rows[k].specificity, spe[k]);
            close(rows[k].geometric_mean, geo[k]);
            close(rows[k].iba, iba[k]);
        }
        close(avg.specificity, 0.8833333333333333);
        close(avg.geometric_mean, 0.7614436341957805);
        close(avg.iba, 0.5800972222222222);
        assert_eq!(avg.support, 6);
    }

    #[test]
    fn report_has_the_table_and_summary() {
        let labels =
            LabelMap::from_ordered(vec![Label::Text("cat".into()), Label::Text("dog".into())]);
        let proba = vec![vec![0.8, 0.2], vec![0.3, 0.7], vec![0.6, 0.4]];
        let m = compute(&[0, 1, 1], &[0, 1, 0], Some(&proba), &labels).unwrap();
        let report = text_report(&m);
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(
            lines[0],
            "                   pre       rec       spe        f1       geo       iba       sup"
        );
        assert!(lines[2].starts_with("        cat       0.50      1.00      0.50"));
        assert!(lines[5].starts_with("avg / total"));
        assert!(report.contains("ROC-AUC"));
        assert!(report.contains("Brier"));
        assert!(report.contains("ECE"));
        let no_proba = compute(&[0, 1, 1], &[0, 1, 0], None, &labels).unwrap();
        assert!(!text_report(&no_proba).contains("ROC-AUC"));
        let undefined = compute(&[1, 1], &[1, 1], None, &labels).unwrap();
        assert!(text_report(&undefined).contains("Cohen's kappa      undefined"));
    }

    #[test]
    fn an_inconsistent_record_does_not_panic() {
        let labels = LabelMap::from_ordered(vec![Label::Int(0), Label::Int(1)]);
        let mut m = compute(&[0, 1], &[0, 1], None, &labels).unwrap();
        m.confusion_matrix = vec![vec![1]];
        assert!(imbalanced_rows(&m).is_none());
        assert!(text_report(&m).contains("accuracy"));
        m.confusion_matrix.clear();
        m.per_class.clear();
        assert!(text_report(&m).contains("accuracy"));
    }
}
