//! The HTML report of a finished run: one self-contained page — inline SVG charts and
//! inline CSS, no scripts, nothing fetched — that shows how training went and what came of
//! it.
//!
//! [`write_report`] reads a run folder:
//! - required: `history.jsonl` (one record per epoch), `metrics.json` (the final scores)
//!   and `config.toml` (the settings);
//! - optional, each adding a section: `diagnosis.json` (verdicts and remedies), `data.json`
//!   (`goodfit inspect --json` of the training data), `weights.json` (per-layer statistics)
//!   and `predictions_val.json` / `predictions_test.json` (probabilities, for
//!   precision-recall curves and reliability diagrams), `learning_curve.json` (the
//!   scores of `goodfit learning-curve` against the training set size), and `trials.jsonl`
//!   with `auto.json` (the trials of `goodfit train --auto`, what was tried and why); the
//!   `decision` object of `metrics.json` adds the decision-rule section.
//!
//! An optional file that is present but unusable shows a notice in its section rather than
//! stopping the report: the rest of the run is still worth seeing.

mod audit;
mod auto;
mod blocks;
mod charts;
mod confusion;
mod curves;
mod dataset;
mod decision;
mod format;
mod gallery;
mod html;
mod learning;
mod lr_find;
mod probability;
mod results;
mod run;
mod verdicts;
mod weights;

use std::path::{Path, PathBuf};

use crate::error::Result;
pub use audit::audit_page;
use html::Section;
pub use learning::learning_curve_svg;
pub use lr_find::lr_find_svg;

/// The report's file name inside the run folder.
pub use crate::run_folder::REPORT_FILE;

/// Reads the finished run in `run_dir` and writes `run_dir/report.html` (atomically: a
/// reader never sees half a page); returns the report's path.
///
/// A missing or unreadable `history.jsonl`, `metrics.json` or `config.toml` is an
/// [`Error::Input`](crate::Error::Input) naming the file.
pub fn write_report(run_dir: &Path) -> Result<PathBuf> {
    let html = render(run_dir)?;
    let path = run_dir.join(REPORT_FILE);
    crate::io::write_atomic(&path, html.as_bytes())?;
    Ok(path)
}

/// The report of the run in `run_dir`, as HTML, without writing it.
pub fn render(run_dir: &Path) -> Result<String> {
    let run = run::read_run(run_dir)?;
    let mut sections = Vec::new();
    let mut add = |id, title, body: Option<String>| {
        if let Some(body) = body {
            sections.push(Section { id, title, body });
        }
    };
    add("diagnosis", "Diagnosis", verdicts::section(&run));
    add("auto", "What was tried and why", auto::section(&run));
    add("curves", "Training curves", Some(curves::section(&run)));
    add("learning", "Learning curve", learning::section(&run));
    add("results", "Results", results::section(&run));
    add("decision", "Decision rule", decision::section(&run));
    add("probabilities", "Probabilities", probability::section(&run));
    add("data", "Training data", dataset::section(&run));
    add("pictures", "Pictures", gallery::section(&run));
    add("weights", "Weights", weights::section(&run));
    add("settings", "Settings", Some(html::settings(&run)));
    Ok(html::page(&run, &sections))
}
