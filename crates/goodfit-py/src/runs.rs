//! `goodfit.load_run`: a run folder's records, read by their owners' readers (the run
//! folder's layout stays `goodfit::run_folder`'s business), handed to Python as one JSON
//! object.

use std::path::{Path, PathBuf};

use goodfit::auto::read_trials;
use goodfit::run_folder::metrics::RunMetrics;
use goodfit::run_folder::records::{read_history, Predictions};
use goodfit::run_folder::summaries::{RunDiagnosis, Summary};
use goodfit::run_folder::{
    DIAGNOSIS_FILE, HISTORY_FILE, METRICS_FILE, REPORT_FILE, TRIALS_FILE, VAL_PREDICTIONS_FILE,
};
use goodfit::train::TrainConfig;
use goodfit::{Error, Result};
use pyo3::prelude::*;
use serde_json::{json, Value};

use crate::errors::{guarded, to_json};

/// The record at `path` when the file is there.
fn optional<T>(path: &Path, read: impl FnOnce(&Path) -> Result<T>) -> Result<Option<T>> {
    if path.is_file() {
        read(path).map(Some)
    } else {
        Ok(None)
    }
}

fn value<T: serde::Serialize>(record: &T) -> Result<Value> {
    serde_json::to_value(record).map_err(Error::serialization)
}

/// Everything Python's `Run` shows, read from the finished run folder `dir`.
fn read_run(dir: &Path) -> Result<Value> {
    let metrics_path = dir.join(METRICS_FILE);
    if !metrics_path.is_file() {
        return Err(Error::Invalid(format!(
            "{}: not a finished goodfit run (no {METRICS_FILE})",
            dir.display()
        )));
    }
    let metrics = RunMetrics::read(&metrics_path)?;
    let config = optional(
        &dir.join(goodfit::run_folder::CONFIG_FILE),
        TrainConfig::read,
    )?;
    let history = optional(&dir.join(HISTORY_FILE), read_history)?.unwrap_or_default();
    let diagnosis = optional(&dir.join(DIAGNOSIS_FILE), RunDiagnosis::read)?;
    let trials = optional(&dir.join(TRIALS_FILE), read_trials)?;
    let labels =
        optional(&dir.join(VAL_PREDICTIONS_FILE), Predictions::read)?.map(|p| p.label_texts());
    let report = dir.join(REPORT_FILE);
    Ok(json!({
        "out": dir,
        "config": config.as_ref().map(value).transpose()?,
        "metrics": value(&metrics)?,
        "history": history.iter().map(value).collect::<Result<Vec<_>>>()?,
        "diagnosis": diagnosis
            .as_ref()
            .and_then(|d| d.verdicts.get("verdicts").cloned())
            .unwrap_or(Value::Array(Vec::new())),
        "trials": trials.as_ref().map(|t| t.iter().map(value).collect::<Result<Vec<_>>>()).transpose()?,
        "labels": labels,
        "report": report.is_file().then_some(report),
    }))
}

/// The finished run folder `path` as JSON text.
#[pyfunction]
pub fn load_run(py: Python<'_>, path: PathBuf) -> PyResult<String> {
    let run = guarded(py, || read_run(&path))?;
    to_json(&run)
}
