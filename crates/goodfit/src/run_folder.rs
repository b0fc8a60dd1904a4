//! The run folder's layout: every file and folder that `train`, `--auto`, `decide` and
//! the tools write in it, named once here. Everything else goes through these names (a
//! test checks that no other source file spells one), and a fresh run clears exactly
//! [`OUTPUTS`] before it starts.

pub mod gallery;
pub mod metrics;
pub mod records;
pub mod summaries;

use std::path::Path;

use crate::error::{Error, Result};

/// The settings the run trained with (`goodfit train --config` reads it back).
pub const CONFIG_FILE: &str = "config.toml";
/// One JSON line per epoch.
pub const HISTORY_FILE: &str = "history.jsonl";
/// Final metrics.
pub const METRICS_FILE: &str = "metrics.json";
/// The latest checkpoint.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
/// The saved classifier folder.
pub const MODEL_DIR: &str = "model";
/// Validation labels and probabilities of the kept weights.
pub const VAL_PREDICTIONS_FILE: &str = "predictions_val.json";
/// Test labels and probabilities, when a test file was given.
pub const TEST_PREDICTIONS_FILE: &str = "predictions_test.json";
/// The training data summary (`goodfit inspect`) and the training split's class counts.
pub const DATA_FILE: &str = "data.json";
/// What `goodfit audit` found in the training file (a run trained with `--audit`).
pub const AUDIT_SUMMARY_FILE: &str = "data_audit.json";
/// Weight statistics per layer.
pub const WEIGHTS_FILE: &str = "weights.json";
/// The verdicts.
pub const DIAGNOSIS_FILE: &str = "diagnosis.json";
/// The report.
pub const REPORT_FILE: &str = "report.html";
/// An image run's thumbnails: training examples per class, the most confidently wrong
/// validation and test pictures.
pub const GALLERY_FILE: &str = "gallery.json";
/// An ensemble's members (paths inside the run folder) and their weights.
pub const ENSEMBLE_FILE: &str = "ensemble.json";
/// One line per trial of a search.
pub const TRIALS_FILE: &str = "trials.jsonl";
/// A search's summary: the choice, both test scores, the budget used.
pub const AUTO_FILE: &str = "auto.json";
/// The folder of a search's trials' run folders.
pub const TRIALS_DIR: &str = "trials";
/// The folder of a cross-validated fine-tune's fold models.
pub const FOLDS_DIR: &str = "folds";
/// `goodfit soup`'s record: the runs tried, their scores, the members kept.
pub const SOUP_FILE: &str = "soup.json";
/// `goodfit learning-curve`'s table and chart.
pub const LEARNING_CURVE_FILE: &str = "learning_curve.json";
/// The learning curve's chart.
pub const LEARNING_CURVE_CHART: &str = "learning_curve.svg";
/// `goodfit lr-find`'s curve and chart.
pub const LR_FIND_FILE: &str = "lr_find.json";
/// The range test's chart.
pub const LR_FIND_CHART: &str = "lr_find.svg";

/// What a run leaves in its folder; a fresh run clears these first, so that a failed run
/// never leaves an old result looking like its own.
pub const OUTPUTS: [&str; 19] = [
    HISTORY_FILE,
    METRICS_FILE,
    CHECKPOINT_FILE,
    VAL_PREDICTIONS_FILE,
    TEST_PREDICTIONS_FILE,
    DATA_FILE,
    AUDIT_SUMMARY_FILE,
    WEIGHTS_FILE,
    DIAGNOSIS_FILE,
    REPORT_FILE,
    GALLERY_FILE,
    ENSEMBLE_FILE,
    LEARNING_CURVE_FILE,
    SOUP_FILE,
    TRIALS_FILE,
    AUTO_FILE,
    MODEL_DIR,
    TRIALS_DIR,
    FOLDS_DIR,
];

/// What in a folder says a run lives there: its results, its checkpoint, a search's files.
const RUN_MARKERS: [&str; 6] = [
    METRICS_FILE,
    SOUP_FILE,
    MODEL_DIR,
    CHECKPOINT_FILE,
    AUTO_FILE,
    TRIALS_FILE,
];

/// Refuses to start a fresh run in `out` when a run lives there, unless `overwrite`; an
/// `out` that is a file is refused always. Reads only.
pub fn check_out_dir(out: &Path, overwrite: bool) -> Result<()> {
    if out.exists() && !out.is_dir() {
        return Err(Error::Invalid(format!(
            "--out {}: is a file, not a folder",
            out.display()
        )));
    }
    if overwrite {
        return Ok(());
    }
    let found: Vec<&str> = RUN_MARKERS
        .into_iter()
        .filter(|name| out.join(name).exists())
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    let unfinished = !out.join(METRICS_FILE).exists() && out.join(CHECKPOINT_FILE).exists();
    Err(Error::Invalid(format!(
        "--out {} already holds a run ({}): pass --overwrite to replace it{}, or choose another --out",
        out.display(),
        found.join(", "),
        if unfinished {
            ", --resume to continue it"
        } else {
            ""
        }
    )))
}

/// Creates `out` and removes every earlier run's [`OUTPUTS`] from it (a link among them is
/// removed, never followed).
pub fn clear_outputs(out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    OUTPUTS
        .iter()
        .try_for_each(|name| crate::io::remove_entry(&out.join(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No other source file spells a run-folder file name: they all go through this module.
    #[test]
    fn run_folder_names_are_spelled_here_only() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let cli = Path::new(env!("CARGO_MANIFEST_DIR")).join("../goodfit-cli/src");
        let mut offenders = Vec::new();
        let mut stack = vec![src, cli];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") || path.ends_with("run_folder.rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                // Tests may spell the names they check; the code above them may not.
                let code = text.split("#[cfg(test)]").next().unwrap_or("");
                let names = [
                    CONFIG_FILE,
                    LEARNING_CURVE_CHART,
                    LR_FIND_FILE,
                    LR_FIND_CHART,
                ];
                for name in OUTPUTS.iter().chain(&names) {
                    // A file name anywhere in quotes; a folder name (`model`, `folds`, also
                    // JSON keys) where a path is joined.
                    let spelled = if name.contains('.') {
                        format!("\"{name}\"")
                    } else {
                        format!("join(\"{name}\")")
                    };
                    if code.contains(&spelled) {
                        offenders.push(format!("{}: {spelled}", path.display()));
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "{offenders:#?}");
    }

    #[test]
    fn a_folder_holding_a_run_is_refused_and_cleared_only_of_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        check_out_dir(&out, false).unwrap();
        std::fs::create_dir_all(out.join(MODEL_DIR)).unwrap();
        std::fs::write(out.join(METRICS_FILE), "{}").unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let error = check_out_dir(&out, false).unwrap_err().to_string();
        assert!(error.contains("--overwrite"), "{error}");
        check_out_dir(&out, true).unwrap();
        clear_outputs(&out).unwrap();
        assert!(!out.join(MODEL_DIR).exists() && !out.join(METRICS_FILE).exists());
        assert!(out.join("notes.txt").is_file(), "the user's own files stay");
    }
}
