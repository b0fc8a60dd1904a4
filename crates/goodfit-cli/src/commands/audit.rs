//! `goodfit audit`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use goodfit::audit::output::{
    check_audit_dir, write_audit_dir, write_clean, Cleaned, LabelFix, PAGE_FILE, SURE_LABEL_SCORE,
};
use goodfit::audit::{audit, Audit, AuditConfig, Finding, IssueKind};
use goodfit::report::audit_page;
use goodfit::train::session::Session;
use serde_json::json;

use crate::args::{print, to_json};
use crate::progress::Bars;

/// Flags of `goodfit audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The pretrained model: a Hugging Face folder (its frozen encoder embeds the rows).
    #[arg(long)]
    model: String,
    /// The labelled file to audit (CSV, TSV, JSONL or Parquet; or an image folder).
    #[arg(long)]
    data: PathBuf,
    /// A test file: its rows that copy training rows are reported as leakage.
    #[arg(long)]
    test: Option<PathBuf>,
    /// A `goodfit train` run folder trained on --data: its own predictions of the rows it
    /// held out are averaged with the out-of-fold probabilities.
    #[arg(long, value_name = "RUN_DIR")]
    run: Option<PathBuf>,
    /// With --run: the run's share of each averaged probability (1: its predictions alone
    /// for the rows it predicts).
    #[arg(long, default_value_t = 0.5, value_name = "W")]
    run_weight: f64,
    /// Write the audit folder here: audit.json, issues.csv, audit.html.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print every finding as JSON instead of the tables.
    #[arg(long)]
    json: bool,
    /// Write a copy of --data without the flagged training rows to this file (CSV or JSONL
    /// by its extension; never the input).
    #[arg(long)]
    write_clean: Option<PathBuf>,
    /// Which findings --write-clean drops (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "label")]
    clean: Vec<CleanKind>,
    /// With --write-clean: how it fixes the probably mislabelled rows: `relabel` keeps
    /// them under their suggested label, `drop` leaves them out (rows of the other kinds
    /// are always dropped).
    #[arg(long, value_enum, default_value_t = FixArg::Relabel, requires = "write_clean")]
    label_fix: FixArg,
    /// With --write-clean: fix only the label issues scored at least this (0 to 1; a
    /// label issue's score is 1 − the out-of-fold probability of its label); the rest stay
    /// as given. 0 fixes every flagged row.
    #[arg(long, default_value_t = SURE_LABEL_SCORE, requires = "write_clean")]
    label_min_score: f64,
    /// Replace an earlier audit in --out, or an existing --write-clean file.
    #[arg(long)]
    overwrite: bool,
    /// Folds of the out-of-fold probabilities.
    #[arg(long, default_value_t = 5)]
    folds: usize,
    /// Times the folds are drawn anew; each row's probabilities are averaged over them.
    #[arg(long, default_value_t = 5)]
    repeats: usize,
    /// Seed of the folds and the heads.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Tokens per text.
    #[arg(long, default_value_t = 128)]
    max_len: usize,
    /// Cosine similarity of the encoder's embeddings from which two rows are
    /// near-duplicates.
    #[arg(long, default_value_t = 0.95)]
    duplicate_threshold: f32,
    /// Nearest rows whose mean distance scores how out of place a row is.
    #[arg(long, default_value_t = 10)]
    neighbours: usize,
    /// A row is out of place when that distance is this many interquartile ranges above
    /// the third quartile.
    #[arg(long, default_value_t = 3.0)]
    outlier_fence: f64,
    /// Rows of each kind in the printed tables.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// The text (or picture path) column.
    #[arg(long, default_value = "text")]
    text_col: String,
    /// The label column.
    #[arg(long, default_value = "label")]
    label_col: String,
    /// Print no progress.
    #[arg(long)]
    quiet: bool,
}

/// How `--write-clean` fixes label issues (`--label-fix`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FixArg {
    /// Keep the row under its suggested label.
    Relabel,
    /// Leave the row out.
    Drop,
}

/// The findings `--clean` can drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CleanKind {
    /// Probably mislabelled rows.
    Label,
    /// Later copies of near-duplicate rows (the first is kept).
    NearDuplicate,
    /// Rows out of place.
    Outlier,
}

impl CleanKind {
    fn kind(self) -> IssueKind {
        match self {
            CleanKind::Label => IssueKind::Label,
            CleanKind::NearDuplicate => IssueKind::NearDuplicate,
            CleanKind::Outlier => IssueKind::Outlier,
        }
    }
}

/// Runs `goodfit audit`: every input and output checked first, then the audit, then the
/// folder and the cleaned copy, then the tables (or JSON).
pub fn run(args: &AuditArgs) -> Result<()> {
    let config = AuditConfig {
        test: args.test.clone(),
        run: args.run.clone(),
        run_weight: args.run_weight,
        text_col: args.text_col.clone(),
        label_col: args.label_col.clone(),
        folds: args.folds,
        repeats: args.repeats,
        seed: args.seed,
        max_len: args.max_len,
        duplicate_threshold: args.duplicate_threshold,
        neighbours: args.neighbours,
        outlier_fence: args.outlier_fence,
        ..AuditConfig::new(args.model.clone(), args.data.clone())
    };
    config.validate()?;
    Session::check_inputs(&config.head())?;
    if let Some(out) = &args.out {
        check_audit_dir(out, args.overwrite)?;
    }
    if !(0.0..=1.0).contains(&args.label_min_score) {
        anyhow::bail!(
            "--label-min-score {}: a score from 0 to 1",
            args.label_min_score
        );
    }
    if let Some(clean) = &args.write_clean {
        goodfit::io::refuse_overwriting_input(&args.data, clean)?;
        goodfit::data::Format::from_path(clean)?;
        if clean.exists() && !args.overwrite {
            anyhow::bail!(
                "--write-clean {}: the file exists; pass --overwrite to replace it, or choose another name",
                clean.display()
            );
        }
    }
    let bars = Bars::new(args.quiet || args.json);
    let found = audit(&config, &bars)?;
    if let Some(out) = &args.out {
        write_audit_dir(out, &found, &audit_page(&found))?;
        bars.say(&format!(
            "audit written to {}",
            out.join(PAGE_FILE).display()
        ));
    }
    let mut cleaned = None;
    if let Some(clean) = &args.write_clean {
        let kinds: Vec<IssueKind> = args.clean.iter().map(|k| k.kind()).collect();
        let fix = match args.label_fix {
            FixArg::Relabel => LabelFix::Relabel(&args.label_col),
            FixArg::Drop => LabelFix::Drop,
        };
        let done = write_clean(
            &found,
            &kinds,
            args.label_min_score,
            fix,
            clean,
            args.overwrite,
        )?;
        cleaned = Some((clean.clone(), done));
    }
    if args.json {
        // Thumbnails are the page's (audit.json keeps them); standard output stays text.
        let findings: Vec<Finding> = found
            .findings
            .iter()
            .map(|f| Finding {
                thumbnail: None,
                ..f.clone()
            })
            .collect();
        return print(&to_json(&json!({
            "data": found.data,
            "rows": found.rows,
            "counts": found.counts,
            "probe": found.probe,
            "findings": findings,
            "clean": cleaned.as_ref().map(|(path, done)| json!({
                "file": path,
                "dropped": done.dropped,
                "relabelled": done.relabelled,
                "kept_as_given": done.kept_as_given,
            })),
        }))?);
    }
    let mut text = tables(&found, args.top);
    if let Some((path, done)) = cleaned {
        text += &format!("\ncleaned copy: {}\n", path.display());
        text += &clean_summary(&done, args.label_min_score);
    }
    print(&text)
}

/// What the cleaned copy did, in words.
fn clean_summary(done: &Cleaned, min_score: f64) -> String {
    let mut text = format!(
        "  {} rows dropped, {} given their suggested label\n",
        done.dropped, done.relabelled
    );
    if done.kept_as_given > 0 {
        text += &format!(
            "  {} label issues scored below {min_score} kept as given (--label-min-score 0 fixes them too)\n",
            done.kept_as_given
        );
    }
    text
}

/// The top `top` findings of each kind as plain-text tables.
fn tables(audit: &Audit, top: usize) -> String {
    let mut text = format!(
        "{}: {} rows, {} classes; out-of-fold macro-F1 {:.3} (accuracy {:.3}); {:.0} s\n",
        audit.data.display(),
        audit.rows,
        audit.classes.len(),
        audit.probe.macro_f1,
        audit.probe.accuracy,
        audit.seconds
    );
    for kind in IssueKind::ALL {
        let of_kind: Vec<&Finding> = audit.findings.iter().filter(|f| f.kind == kind).collect();
        if kind == IssueKind::Leakage && audit.test.is_none() {
            continue;
        }
        text += &format!("\n{}: {}\n", kind.title(), of_kind.len());
        for f in of_kind.iter().take(top) {
            let labels = match (&f.given, &f.suggested) {
                (Some(g), Some(s)) => format!("{g} → {s}"),
                (Some(g), None) => g.clone(),
                _ => String::new(),
            };
            let file = if f.file == goodfit::audit::DataFile::Test {
                "test "
            } else {
                ""
            };
            text += &format!(
                "  {file}line {:>6}  {:.3}  {:<18} {}\n      {}\n",
                f.line,
                f.score,
                labels,
                shorten(&f.input, 70),
                f.detail
            );
        }
        if of_kind.len() > top {
            text += &format!("  … {} more (--top, --json, --out)\n", of_kind.len() - top);
        }
    }
    text
}

/// `text` on one line, cut to `max` characters.
fn shorten(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        flat.chars().take(max - 1).collect::<String>() + "…"
    }
}
