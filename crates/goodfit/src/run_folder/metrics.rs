//! `metrics.json`, a run's results: which epoch was kept and why, and how the kept model
//! scored on validation (and test). Written by `train`, amended by `decide` (a new rule),
//! a cross-validated fit (its folds) and `--auto` (an ensemble, the test scores of a trial
//! that never saw the test file) — all through [`RunMetrics`], read back by the diagnosis.
//!
//! A set's scores (`val`, `test`) are kept as the JSON object [`crate::metrics::Metrics`]
//! serialises to, not re-parsed into it: the report reads them leniently, key by key, so
//! that a metrics file from an older goodfit still draws, and a score added later needs no
//! change here.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Position, Result};
use crate::io::write_atomic;

use super::records::FORMAT;

fn first_format() -> u32 {
    1
}

/// The record in `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    /// The record's format.
    #[serde(default = "first_format")]
    pub format: u32,
    /// The epoch whose weights were kept (1-based); `None` when no epoch scored.
    pub best_epoch: Option<usize>,
    /// Epochs trained.
    pub epochs_run: usize,
    /// Whether early stopping ended the run.
    #[serde(default)]
    pub stopped_early: bool,
    /// What best-epoch selection watched (`val_loss`, `val_f1_macro`, …).
    pub monitor: String,
    /// Wall-clock seconds of training and evaluation.
    pub seconds: f64,
    /// Validation loss of the kept weights (of the ensemble, when one predicts).
    pub val_loss: Option<f64>,
    /// Validation scores (a serialised [`crate::metrics::Metrics`]).
    pub val: Value,
    /// Test loss, when a test file was scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_loss: Option<f64>,
    /// Test scores, when a test file was scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<Value>,
    /// The decision rule, its objective before and after, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Value>,
    /// A cross-validated fit's folds and the per-fold scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_validation: Option<Value>,
    /// The ensemble that predicts in place of the single model, when `--auto` chose one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ensemble: Option<Value>,
}

impl RunMetrics {
    /// Writes the record at `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(Error::serialization)? + "\n";
        write_atomic(path, text.as_bytes())
    }

    /// Reads and checks the record at `path`: errors name the file and line (or field), and
    /// a record from a newer goodfit is refused rather than misread.
    pub fn read(path: &Path) -> Result<RunMetrics> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let record: RunMetrics = serde_json::from_str(&text).map_err(|e| {
            Error::input(
                Position::line(path, e.line() as u64),
                format!("not a metrics record goodfit wrote: {e}"),
            )
        })?;
        if record.format > FORMAT {
            return Err(Error::input(
                Position::file(path).with_field("format"),
                format!(
                    "format {} is newer than this goodfit reads ({FORMAT}): update goodfit",
                    record.format
                ),
            ));
        }
        if !record.val.is_object() {
            return Err(Error::input(
                Position::file(path).with_field("val"),
                "the validation scores are not an object",
            ));
        }
        Ok(record)
    }

    /// Reads the record at `path`, lets `change` amend it and writes it back, atomically.
    pub fn update(path: &Path, change: impl FnOnce(&mut RunMetrics)) -> Result<()> {
        let mut record = RunMetrics::read(path)?;
        change(&mut record);
        record.format = FORMAT;
        record.write(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metrics_round_trip_amend_and_refuse_what_they_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        let record = RunMetrics {
            format: FORMAT,
            best_epoch: Some(2),
            epochs_run: 3,
            stopped_early: true,
            monitor: "val_loss".into(),
            seconds: 1.5,
            val_loss: Some(0.4),
            val: json!({"f1_macro": 0.8, "labels": ["a", "b"]}),
            test_loss: None,
            test: None,
            decision: None,
            cross_validation: None,
            ensemble: None,
        };
        record.write(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\"format\": 1") && !text.contains("test"),
            "{text}"
        );
        assert_eq!(RunMetrics::read(&path).unwrap(), record);
        RunMetrics::update(&path, |m| m.test = Some(json!({"f1_macro": 0.7}))).unwrap();
        assert_eq!(
            RunMetrics::read(&path).unwrap().test,
            Some(json!({"f1_macro": 0.7}))
        );

        // Written before records carried a format.
        std::fs::write(&path, r#"{"best_epoch": 1, "epochs_run": 1, "monitor": "val_loss", "seconds": 1, "val_loss": 0.5, "val": {}}"#).unwrap();
        assert_eq!(RunMetrics::read(&path).unwrap().format, 1);
        for (text, why) in [
            (
                r#"{"format": 9, "best_epoch": 1, "epochs_run": 1, "monitor": "val_loss", "seconds": 1, "val_loss": 0.5, "val": {}}"#,
                "newer",
            ),
            (
                r#"{"best_epoch": 1, "epochs_run": 1, "monitor": "val_loss", "seconds": 1, "val_loss": 0.5, "val": 3}"#,
                "val",
            ),
            ("{\n\"epochs_run\": \"two\"}", ":2"),
        ] {
            std::fs::write(&path, text).unwrap();
            let error = RunMetrics::read(&path).unwrap_err().to_string();
            assert!(error.contains(why), "{error}");
        }
    }
}
