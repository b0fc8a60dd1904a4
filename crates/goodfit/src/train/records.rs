//! The records a run writes besides the model: what a finished run reports, and the
//! JSON and JSON Lines files, written atomically.

use std::path::{Path, PathBuf};

use crate::data::LabelMap;
use crate::error::{Error, Result};
use crate::io::write_atomic;
use crate::metrics::Metrics;
pub(crate) use crate::run_folder::records::write_json_lines;
use crate::run_folder::records::Predictions;

/// What a finished run reports.
pub struct RunResult {
    /// The run folder.
    pub out: PathBuf,
    /// The epoch whose weights were kept (1-based).
    pub best_epoch: Option<usize>,
    /// Epochs trained.
    pub epochs_run: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Validation loss of the kept weights.
    pub val_loss: f64,
    /// Validation metrics of the kept weights.
    pub val: Metrics,
    /// Test loss and metrics, when a test file was given.
    pub test: Option<(f64, Metrics)>,
    /// The decision rule and what it changed, in a line, when one was set.
    pub decision: Option<String>,
    /// Wall-clock seconds of training and evaluation.
    pub seconds: f64,
}

/// Writes `value` as pretty JSON, atomically.
pub(crate) fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(Error::serialization)? + "\n";
    write_atomic(path, text.as_bytes())
}

/// Labels, true classes and probabilities, for precision-recall curves and calibration.
pub(crate) fn write_predictions(
    path: &Path,
    labels: &LabelMap,
    targets: &[usize],
    proba: &[Vec<f64>],
) -> Result<()> {
    Predictions::new(labels, targets, proba).write(path)
}
