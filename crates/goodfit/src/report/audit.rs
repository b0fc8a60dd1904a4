//! `audit.html`: one self-contained page of what `goodfit audit` found — the headline
//! counts, the label-quality distribution and the confident joint, and each kind's worst
//! rows with their evidence.

use crate::audit::{Audit, Finding, IssueKind};

use super::blocks::{card, figure, grid, note, table};
use super::charts::{self, Axis, Key, BLUE, MUTED, ORANGE, RED};
use super::format::{esc, num, truncate};
use super::html::{document, Section};

/// Rows of each kind's table on the page (the rest are in `audit.json` and `issues.csv`).
const SHOWN: usize = 50;

/// The page for `audit`.
pub fn audit_page(audit: &Audit) -> String {
    let name = audit
        .data
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| audit.data.display().to_string());
    let sections = vec![
        Section {
            id: "labels",
            title: "Labels",
            body: labels(audit),
        },
        Section {
            id: "duplicates",
            title: "Duplicates and leakage",
            body: duplicates(audit),
        },
        Section {
            id: "outliers",
            title: "Out of place",
            body: outliers(audit),
        },
        Section {
            id: "settings",
            title: "Settings",
            body: settings(audit),
        },
    ];
    document(
        &format!("goodfit audit · {name}"),
        &header(audit, &name),
        &sections,
        "Written by goodfit audit from audit.json in this folder.",
    )
}

fn header(audit: &Audit, name: &str) -> String {
    let c = &audit.counts;
    let mut cards = count_cards(
        audit.rows,
        [c.label, c.near_duplicate, c.leakage, c.outlier],
        "",
        if audit.test.is_some() {
            "copies of a training row"
        } else {
            "no test file given"
        },
    );
    cards.extend([
        card(
            "out-of-fold macro-F1",
            &num(audit.probe.macro_f1),
            "how well the features predict the labels",
            false,
        ),
        card("time", &format!("{:.0} s", audit.seconds), "", false),
    ]);
    format!(
        "<header>\n<p class=\"eyebrow\">goodfit data audit</p>\n<h1>{}</h1>\n<p class=\"sub\">model <b>{}</b> · {} rows · {} classes</p>\n<div class=\"cards\">{}</div>\n</header>\n",
        esc(name),
        esc(&audit.model),
        audit.rows,
        audit.classes.len(),
        cards.concat()
    )
}

/// An audit's counts as headline cards — probably mislabelled (with `label_note` after
/// its share of the `rows`), near-duplicates, leaked test rows (`leak_note`), out of place
/// — for its own page and for the data section of a run trained with `--audit`.
pub(super) fn count_cards(
    rows: usize,
    [label, near_duplicate, leakage, outlier]: [usize; 4],
    label_note: &str,
    leak_note: &str,
) -> Vec<String> {
    let share = |n: usize| {
        if rows > 0 {
            format!("{:.1}% of {rows} rows", 100.0 * n as f64 / rows as f64)
        } else {
            String::new()
        }
    };
    vec![
        card(
            "probably mislabelled",
            &label.to_string(),
            &format!("{}{label_note}", share(label)),
            label > 0,
        ),
        card(
            "near-duplicates",
            &near_duplicate.to_string(),
            "copies of an earlier row",
            false,
        ),
        card("leaked test rows", &leakage.to_string(), leak_note, false),
        card("out of place", &outlier.to_string(), &share(outlier), false),
    ]
}

fn labels(audit: &Audit) -> String {
    let mut html = grid(&[quality_figure(audit), joint_figure(audit)]);
    html.push_str(&findings_table(audit, IssueKind::Label));
    html
}

/// The label-quality scores (out-of-fold probability of the given label) as a histogram,
/// flagged rows stacked in red on the rest.
fn quality_figure(audit: &Audit) -> String {
    const BINS: usize = 20;
    let mut flagged = [0.0f64; BINS];
    let mut kept = [0.0f64; BINS];
    for row in &audit.row_scores {
        let bin = ((row.label_quality * BINS as f64) as usize).min(BINS - 1);
        if row.label_issue {
            flagged[bin] += 1.0;
        } else {
            kept[bin] += 1.0;
        }
    }
    let top = (0..BINS).map(|b| flagged[b] + kept[b]).fold(1.0, f64::max);
    let x = Axis::unit("out-of-fold probability of the given label");
    let y = Axis::values([0.0, top * 1.05], true, "rows");
    let svg = charts::svg(500, 320, "Label quality", |root| {
        let area = charts::key_row(
            root,
            &[
                ("flagged", Key::Swatch(RED)),
                ("not flagged", Key::Swatch(BLUE)),
            ],
        )?;
        let mut chart = charts::plane(&area, &x, &y)?;
        let w = 1.0 / BINS as f64;
        let rects = (0..BINS).flat_map(|b| {
            let x0 = b as f64 * w;
            [
                ((x0 + w * 0.05, 0.0), (x0 + w * 0.95, kept[b]), BLUE),
                (
                    (x0 + w * 0.05, kept[b]),
                    (x0 + w * 0.95, kept[b] + flagged[b]),
                    RED,
                ),
            ]
        });
        charts::bars(&mut chart, rects.filter(|r| r.1 .1 > r.0 .1))?;
        Ok(())
    });
    figure(
        &svg,
        "<b>Label quality:</b> for each training row, the probability that a head trained \
         on the other folds gives its label (cleanlab's self-confidence). Flagged rows are \
         those confident learning counts as off the diagonal of the joint; most sit on the \
         left, but a low score alone does not flag a row.",
        false,
    )
}

/// The calibrated confident joint as a heatmap: given label by (estimated) true label.
fn joint_figure(audit: &Audit) -> String {
    let n = audit.classes.len();
    let values: Vec<Vec<Option<f64>>> = audit
        .confident_joint
        .iter()
        .map(|row| row.iter().map(|&v| Some(v as f64)).collect())
        .collect();
    // Many classes take the page's width, as the confusion matrices do.
    let wide = n > 6;
    let height = (150 + 40 * n as u32).min(720);
    let width = if wide { 1000 } else { 500 };
    let svg = charts::svg(width, height, "Confident joint", |root| {
        super::confusion::heatmap(
            root,
            &audit.classes,
            &values,
            &num,
            ("true (estimated)", "given"),
        )
    });
    figure(
        &svg,
        "<b>Confident joint:</b> estimated counts of rows given each label (rows) whose true \
         class is each column, calibrated to the class counts (Northcutt et al. 2021). Off \
         the diagonal is how many wrong labels each class probably holds.",
        wide,
    )
}

fn duplicates(audit: &Audit) -> String {
    let mut html = findings_table(audit, IssueKind::NearDuplicate);
    html.push_str("<h3>Test rows leaked from training</h3>\n");
    if audit.test.is_none() {
        html.push_str(&note(
            "No test file was given (--test), so none was checked.",
        ));
    } else {
        html.push_str(&findings_table(audit, IssueKind::Leakage));
    }
    html
}

fn outliers(audit: &Audit) -> String {
    let mut html = distance_figure(audit);
    html.push_str(&findings_table(audit, IssueKind::Outlier));
    html
}

/// The rows' neighbour-distance percentiles as a histogram, those out of place stacked
/// on top.
fn distance_figure(audit: &Audit) -> String {
    const BINS: usize = 20;
    let mut counts = [0.0f64; BINS];
    for row in &audit.row_scores {
        counts[((row.outlier_percentile * BINS as f64) as usize).min(BINS - 1)] += 1.0;
    }
    let mut flagged = [0.0f64; BINS];
    for row in audit.row_scores.iter().filter(|r| r.outlier) {
        flagged[((row.outlier_percentile * BINS as f64) as usize).min(BINS - 1)] += 1.0;
    }
    let top = counts.iter().copied().fold(1.0, f64::max);
    let x = Axis::unit("percentile of the distance to the nearest rows");
    let y = Axis::values([0.0, top * 1.05], true, "rows");
    let svg = charts::svg(1000, 260, "Distance to the nearest rows", |root| {
        let area = charts::key_row(
            root,
            &[
                ("out of place", Key::Swatch(ORANGE)),
                ("the rest", Key::Swatch(MUTED)),
            ],
        )?;
        let mut chart = charts::plane(&area, &x, &y)?;
        let w = 1.0 / BINS as f64;
        let rects = (0..BINS).flat_map(|b| {
            let x0 = b as f64 * w;
            let rest = counts[b] - flagged[b];
            [
                ((x0 + w * 0.05, 0.0), (x0 + w * 0.95, rest), MUTED),
                ((x0 + w * 0.05, rest), (x0 + w * 0.95, counts[b]), ORANGE),
            ]
        });
        charts::bars(&mut chart, rects.filter(|r| r.1 .1 > r.0 .1))?;
        Ok(())
    });
    figure(
        &svg,
        &format!(
            "<b>Distance to the nearest rows:</b> each training row's mean cosine distance to \
             its {} most similar rows, as a percentile. A row is out of place above Tukey's \
             far-out fence ({} interquartile ranges above the third quartile: a distance of \
             {}), or when its text is empty, far shorter than the rest or in another script \
             or language.",
            audit.settings.neighbours,
            num(audit.settings.outlier_fence),
            num(audit.settings.outlier_distance)
        ),
        true,
    )
}

/// The worst [`SHOWN`] findings of `kind`, or a note that there are none.
fn findings_table(audit: &Audit, kind: IssueKind) -> String {
    let of_kind: Vec<&Finding> = audit.findings.iter().filter(|f| f.kind == kind).collect();
    if of_kind.is_empty() {
        return note(&format!("{}: none found.", kind.title()));
    }
    let label_cells = kind == IssueKind::Label;
    let rows: Vec<Vec<String>> = of_kind
        .iter()
        .take(SHOWN)
        .map(|f| {
            let mut row = vec![f.line.to_string(), num(f.score)];
            row.push(esc(f.given.as_deref().unwrap_or("")));
            if label_cells {
                row.push(format!(
                    "<b>{}</b>",
                    esc(f.suggested.as_deref().unwrap_or(""))
                ));
            }
            row.push(match f.thumbnail.as_deref().filter(|u| is_png_uri(u)) {
                Some(uri) => format!(
                    "<img src=\"{uri}\" alt=\"{path}\" style=\"max-width:64px;max-height:64px\"><br>{path}",
                    path = esc(&f.input)
                ),
                None => esc(&truncate(&f.input, 160)),
            });
            row.push(esc(&f.detail));
            row
        })
        .collect();
    let mut head = vec!["line", "score", "label"];
    if label_cells {
        head.push("suggested");
    }
    head.extend(["text", "evidence"]);
    let mut html = table(&head, &rows, usize::MAX);
    if of_kind.len() > SHOWN {
        html.push_str(&note(&format!(
            "{} more in audit.json and issues.csv.",
            of_kind.len() - SHOWN
        )));
    }
    html
}

/// Whether `uri` is a base64 PNG `data:` URI and nothing else (a thumbnail goodfit made;
/// anything else in an edited `audit.json` is shown as text, never as markup).
fn is_png_uri(uri: &str) -> bool {
    uri.strip_prefix("data:image/png;base64,").is_some_and(|b| {
        b.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
    })
}

fn settings(audit: &Audit) -> String {
    let s = &audit.settings;
    let rows = vec![
        vec!["data".into(), esc(&audit.data.display().to_string())],
        vec![
            "test".into(),
            esc(&audit
                .test
                .as_ref()
                .map_or("—".into(), |t| t.display().to_string())),
        ],
        vec!["model".into(), esc(&audit.model)],
        vec!["out-of-fold probabilities".into(), esc(&audit.probe.how)],
        vec!["folds".into(), s.folds.to_string()],
        vec!["seed".into(), s.seed.to_string()],
        vec![
            "near-duplicate cosine similarity".into(),
            num(s.duplicate_threshold as f64),
        ],
        vec!["neighbours".into(), s.neighbours.to_string()],
        vec!["outlier fence (IQRs)".into(), num(s.outlier_fence)],
        vec!["out-of-fold accuracy".into(), num(audit.probe.accuracy)],
    ];
    table(&["setting", "value"], &rows, usize::MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_base64_png_uri_becomes_a_picture() {
        assert!(super::is_png_uri("data:image/png;base64,iVBORw0KGgo="));
        assert!(!super::is_png_uri("data:image/png;base64,\"><script>"));
        assert!(!super::is_png_uri("javascript:alert(1)"));
    }
}
