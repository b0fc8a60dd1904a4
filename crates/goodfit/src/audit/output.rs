//! The audit folder (`--out`): `audit.json` (every finding and score), `issues.csv` (a
//! line per training row, a score per kind) and `audit.html`; and the cleaned copy of the
//! data file (`--write-clean`). This module alone names the folder's files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::data::{read_table, write_table, Cell, ReadOptions};
use crate::error::{Error, Result};
use crate::io::{refuse_overwriting_input, replace_dir_with, write_atomic};

use crate::run_folder::summaries::{AuditedClass, RunAudit};

use super::findings::{DataFile, IssueKind};
use super::run::{Audit, AUDIT_FORMAT};

/// Every finding and score.
pub const AUDIT_FILE: &str = "audit.json";
/// A line per training row with its score for each kind.
pub const ISSUES_FILE: &str = "issues.csv";
/// The page.
pub const PAGE_FILE: &str = "audit.html";

/// Refuses an `out` the audit must not replace: a file, a folder holding anything but an
/// earlier audit, or an earlier audit unless `overwrite`. Reads only, so that a refused
/// audit has touched nothing.
pub fn check_audit_dir(out: &Path, overwrite: bool) -> Result<()> {
    let meta = match std::fs::symlink_metadata(out) {
        Err(_) => return Ok(()),
        Ok(meta) => meta,
    };
    if !meta.is_dir() {
        return Err(Error::Invalid(format!(
            "--out {}: is not a folder (a file or a link); choose another --out",
            out.display()
        )));
    }
    let entries: Vec<String> = std::fs::read_dir(out)
        .map_err(|e| Error::io(out, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    let ours = [AUDIT_FILE, ISSUES_FILE, PAGE_FILE];
    let foreign: Vec<&String> = entries
        .iter()
        .filter(|e| !ours.contains(&e.as_str()))
        .collect();
    if !foreign.is_empty() || !entries.iter().any(|e| e == AUDIT_FILE) {
        return Err(Error::Invalid(format!(
            "--out {}: holds files that are not an audit's ({}); goodfit replaces only an earlier audit: choose another --out",
            out.display(),
            foreign
                .iter()
                .take(3)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if !overwrite {
        return Err(Error::Invalid(format!(
            "--out {} already holds an audit: pass --overwrite to replace it, or choose another --out",
            out.display()
        )));
    }
    Ok(())
}

/// Writes the audit folder `out` whole (built aside, then put in place): `audit.json`,
/// `issues.csv` and `page` as `audit.html`.
pub fn write_audit_dir(out: &Path, audit: &Audit, page: &str) -> Result<()> {
    let json = serde_json::to_vec_pretty(audit).map_err(Error::serialization)?;
    let csv = issues_csv(audit)?;
    replace_dir_with(out, |dir| {
        write_atomic(&dir.join(AUDIT_FILE), &json)?;
        write_atomic(&dir.join(ISSUES_FILE), &csv)?;
        write_atomic(&dir.join(PAGE_FILE), page.as_bytes())
    })
}

/// Reads an audit folder's `audit.json`, refusing a newer format.
pub fn read_audit(dir: &Path) -> Result<Audit> {
    let path = dir.join(AUDIT_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Invalid(format!("{}: not JSON: {e}", path.display())))?;
    let format = value.get("format").and_then(|f| f.as_u64()).unwrap_or(0);
    if format > AUDIT_FORMAT as u64 {
        return Err(Error::Invalid(format!(
            "{}: format {format} is newer than this goodfit's {AUDIT_FORMAT}: update goodfit",
            path.display()
        )));
    }
    serde_json::from_value(value)
        .map_err(|e| Error::Invalid(format!("{}: not an audit: {e}", path.display())))
}

/// `issues.csv`: a line per training row (by line), each kind's score and whether it is
/// flagged.
pub fn issues_csv(audit: &Audit) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Error::Invalid(format!("cannot write {ISSUES_FILE}: {e}"));
    w.write_record([
        "line",
        "given",
        "suggested",
        "label_quality",
        "label_issue",
        "max_similarity",
        "most_similar_line",
        "near_duplicate",
        "outlier_percentile",
        "outlier",
        "text_problem",
    ])
    .map_err(fail)?;
    for r in &audit.row_scores {
        w.write_record([
            r.line.to_string(),
            r.given.clone(),
            r.suggested.clone(),
            format!("{:.6}", r.label_quality),
            u8::from(r.label_issue).to_string(),
            format!("{:.6}", r.max_similarity),
            r.most_similar_line.map_or(String::new(), |l| l.to_string()),
            u8::from(r.near_duplicate).to_string(),
            format!("{:.6}", r.outlier_percentile),
            u8::from(r.outlier).to_string(),
            r.text_problem.clone().unwrap_or_default(),
        ])
        .map_err(fail)?;
    }
    w.into_inner()
        .map_err(|e| Error::Invalid(format!("cannot write {ISSUES_FILE}: {e}")))
}

/// How `--write-clean` treats the probably mislabelled rows it selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelFix<'a> {
    /// Leave them out.
    Drop,
    /// Keep them with their suggested label, written in this label column.
    Relabel(&'a str),
}

/// The label-issue score (1 − the out-of-fold probability of the given label) from which
/// `--write-clean` fixes a row by default; label issues scored below it stay as given.
/// Measured on tail5 with 10% of its labels flipped (six noise seeds, `benches/audit/`):
/// the flags scored 0.9 or more were right 93–100% of the time against 76–85% for all of
/// them (47 of the 53 false flags score below it), and relabelling a false flag makes a
/// new wrong label.
pub const SURE_LABEL_SCORE: f64 = 0.9;

/// What `write_clean` did to the training rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Cleaned {
    /// Rows left out.
    pub dropped: usize,
    /// Rows kept under their suggested label.
    pub relabelled: usize,
    /// Label issues scored below the minimum, kept as given.
    pub kept_as_given: usize,
}

/// Writes to `output` the data file `audit.data` without the training rows flagged as any
/// of `kinds` (label issues only when scored at least `label_min_score`; with
/// `LabelFix::Relabel` they keep their row under the suggested label instead), in the
/// format of `output`'s extension (CSV or JSONL); never over the input, never over an
/// existing file unless `overwrite`.
pub fn write_clean(
    audit: &Audit,
    kinds: &[IssueKind],
    label_min_score: f64,
    fix: LabelFix<'_>,
    output: &Path,
    overwrite: bool,
) -> Result<Cleaned> {
    refuse_overwriting_input(&audit.data, output)?;
    if output.exists() && !overwrite {
        return Err(Error::Invalid(format!(
            "--write-clean {}: the file exists; pass --overwrite to replace it, or choose another name",
            output.display()
        )));
    }
    let chosen = audit
        .findings
        .iter()
        .filter(|f| f.file == DataFile::Train && kinds.contains(&f.kind));
    let mut drop = BTreeSet::new();
    let mut relabel: BTreeMap<u64, &str> = BTreeMap::new();
    let mut below = BTreeSet::new();
    for f in chosen {
        match (fix, f.kind, &f.suggested) {
            (_, IssueKind::Label, _) if f.score < label_min_score => {
                below.insert(f.line);
            }
            (LabelFix::Relabel(_), IssueKind::Label, Some(label)) => {
                relabel.insert(f.line, label);
            }
            _ => {
                drop.insert(f.line);
            }
        }
    }
    // A row both dropped (a near-copy, say) and relabelled is dropped.
    relabel.retain(|line, _| !drop.contains(line));
    below.retain(|line| !drop.contains(line) && !relabel.contains_key(line));
    let table = read_table(&audit.data, &ReadOptions::default())?;
    let label_column = match fix {
        LabelFix::Relabel(name) => Some(table.column(name)?),
        LabelFix::Drop => None,
    };
    let kept: Vec<Vec<Cell>> = table
        .rows
        .iter()
        .filter(|row| !drop.contains(&row.line))
        .map(|row| {
            let mut cells = row.cells.clone();
            if let (Some(c), Some(label)) = (label_column, relabel.get(&row.line)) {
                // The label keeps its kind: integer labels stay integers.
                cells[c] = match (&cells[c], label.parse::<i64>()) {
                    (Cell::Int(_), Ok(n)) => Cell::Int(n),
                    _ => Cell::Text(label.to_string()),
                };
            }
            cells
        })
        .collect();
    let dropped = table.rows.len() - kept.len();
    write_table(output, &table.columns, &kept)?;
    Ok(Cleaned {
        dropped,
        relabelled: relabel.len(),
        kept_as_given: below.len(),
    })
}

/// The training rows `audit` flags as probably mislabelled, by line.
pub fn flagged_lines(audit: &Audit) -> Vec<u64> {
    let mut lines: Vec<u64> = audit
        .findings
        .iter()
        .filter(|f| f.kind == IssueKind::Label && f.file == DataFile::Train)
        .map(|f| f.line)
        .collect();
    lines.sort_unstable();
    lines.dedup();
    lines
}

/// What a run folder keeps of `audit` (read from `dir`), `dropped` of its flagged rows
/// left out of training.
pub fn run_summary(audit: &Audit, dir: &Path, dropped: usize) -> RunAudit {
    let classes = audit
        .classes
        .iter()
        .map(|label| AuditedClass {
            label: label.clone(),
            rows: audit
                .row_scores
                .iter()
                .filter(|r| &r.given == label)
                .count(),
            flagged: audit
                .row_scores
                .iter()
                .filter(|r| &r.given == label && r.label_issue)
                .count(),
        })
        .collect();
    RunAudit {
        format: 1,
        audit_dir: dir.display().to_string(),
        rows: audit.rows,
        label: audit.counts.label,
        near_duplicate: audit.counts.near_duplicate,
        leakage: audit.counts.leakage,
        outlier: audit.counts.outlier,
        classes,
        dropped,
    }
}
