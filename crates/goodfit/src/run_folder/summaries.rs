//! `data.json`, `weights.json` and `diagnosis.json`, a run's summaries: what the training
//! data looked like (`goodfit inspect`'s summary, plus the class counts of the rows
//! actually trained on), how each layer's weights moved, and the verdicts. Written by
//! `train` and `diagnose`, read by the diagnosis (the class counts) and by the report.
//!
//! Both keep their body as the JSON object their writer serialises (`inspect`'s summary, a
//! [`crate::model::weight_stats::WeightReport`]): the report reads them key by key, so a
//! file from an older goodfit still draws and a statistic added later needs no change
//! here. What this module owns is the envelope — the format version, the one shape the
//! diagnosis relies on (`training_split`), atomic writing, and refusing a newer file.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Position, Result};
use crate::io::write_atomic;

use super::records::FORMAT;

fn first_format() -> u32 {
    1
}

/// One class and how many training rows it had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassCount {
    /// The class's label (a string, or a number as the data file had it).
    pub label: Value,
    /// Its rows in the training split.
    pub count: usize,
}

impl ClassCount {
    /// The label as text (a number's digits).
    pub fn label_text(&self) -> String {
        self.label
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| self.label.to_string())
    }
}

/// The rows a run trained on: after the validation split (every row under
/// cross-validation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSplit {
    /// How many.
    pub rows: usize,
    /// Per class, in label order.
    pub class_counts: Vec<ClassCount>,
}

/// The record in `data.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunData {
    /// The record's format.
    #[serde(default = "first_format")]
    pub format: u32,
    /// The rows trained on.
    pub training_split: TrainingSplit,
    /// `goodfit inspect`'s summary of the training file, as it serialises.
    #[serde(flatten)]
    pub summary: Map<String, Value>,
}

/// The record in `weights.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunWeights {
    /// The record's format.
    #[serde(default = "first_format")]
    pub format: u32,
    /// The weight statistics, as [`crate::model::weight_stats::WeightReport`] serialises.
    #[serde(flatten)]
    pub report: Map<String, Value>,
}

/// The record in `data_audit.json`: what `goodfit audit` found in the training file of a
/// run trained with `--audit`, in the run folder's own terms (the audit folder may move).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunAudit {
    /// The record's format.
    #[serde(default = "first_format")]
    pub format: u32,
    /// The audit folder, as given.
    pub audit_dir: String,
    /// Training-file rows audited.
    pub rows: usize,
    /// Rows probably mislabelled.
    pub label: usize,
    /// Rows copying an earlier row.
    pub near_duplicate: usize,
    /// Test rows copying a training row.
    pub leakage: usize,
    /// Rows out of place.
    pub outlier: usize,
    /// Per class, its rows and how many of them are flagged as mislabelled.
    pub classes: Vec<AuditedClass>,
    /// Training rows left out of this run (`--drop-flagged`).
    pub dropped: usize,
}

/// One class of a [`RunAudit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditedClass {
    /// The label.
    pub label: String,
    /// Its rows in the training file.
    pub rows: usize,
    /// Those flagged as probably mislabelled.
    pub flagged: usize,
}

impl Summary for RunAudit {
    const WHAT: &'static str = "an audit summary";
}

/// The record in `diagnosis.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDiagnosis {
    /// The record's format.
    #[serde(default = "first_format")]
    pub format: u32,
    /// The verdicts, as [`crate::diagnose::Diagnosis`] serialises.
    #[serde(flatten)]
    pub verdicts: Map<String, Value>,
}

impl RunDiagnosis {
    /// The record of `diagnosis` (a serialisable diagnosis), in this goodfit's format.
    pub fn of<T: Serialize>(diagnosis: &T) -> Result<RunDiagnosis> {
        Ok(RunDiagnosis {
            format: FORMAT,
            verdicts: body(diagnosis)?,
        })
    }

    /// The file's text (`goodfit diagnose --json` prints it).
    pub fn text(&self) -> Result<String> {
        text(self)
    }
}

/// Serialises `value` (a struct) into the body of a record.
pub fn body<T: Serialize>(value: &T) -> Result<Map<String, Value>> {
    match serde_json::to_value(value).map_err(Error::serialization)? {
        Value::Object(fields) => Ok(fields),
        other => Err(Error::Invalid(format!(
            "a run summary must be a JSON object, not {other}"
        ))),
    }
}

fn text<T: Serialize>(record: &T) -> Result<String> {
    Ok(serde_json::to_string_pretty(record).map_err(Error::serialization)? + "\n")
}

/// Whether the JSON object `value` (any run-folder record) has a format this goodfit reads:
/// the report reads older files key by key, and refuses only newer ones.
pub fn check_format(value: &Value) -> std::result::Result<(), String> {
    match value.get("format").and_then(Value::as_u64) {
        Some(found) if found > u64::from(FORMAT) => Err(format!(
            "format {found} is newer than this goodfit reads ({FORMAT}): update goodfit"
        )),
        _ => Ok(()),
    }
}

/// A summary record: written whole and atomically, read back checked (a newer format is
/// refused, errors name the file and line).
pub trait Summary: Serialize + for<'de> Deserialize<'de> {
    /// What the record is, for errors (`a data summary`).
    const WHAT: &'static str;

    /// Writes the record at `path`, atomically.
    fn write(&self, path: &Path) -> Result<()> {
        write_atomic(path, text(self)?.as_bytes())
    }

    /// The record in `value`, or why it is not one.
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        check_format(&value)?;
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    /// Reads and checks the record at `path`.
    fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            Error::input(
                Position::line(path, e.line() as u64),
                format!("not {} goodfit wrote: {e}", Self::WHAT),
            )
        })?;
        Self::from_value(value).map_err(|why| Error::input(Position::file(path), why))
    }
}

impl Summary for RunData {
    const WHAT: &'static str = "a data summary";
}

impl Summary for RunWeights {
    const WHAT: &'static str = "a weight report";
}

impl Summary for RunDiagnosis {
    const WHAT: &'static str = "a diagnosis";
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn summaries_round_trip_and_refuse_a_newer_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.json");
        let record = RunData {
            format: FORMAT,
            training_split: TrainingSplit {
                rows: 3,
                class_counts: vec![
                    ClassCount {
                        label: json!("neg"),
                        count: 2,
                    },
                    ClassCount {
                        label: json!(5),
                        count: 1,
                    },
                ],
            },
            summary: body(&json!({"rows": 4, "classes": 2})).unwrap(),
        };
        record.write(&path).unwrap();
        let read = RunData::read(&path).unwrap();
        assert_eq!(read, record);
        assert_eq!(read.training_split.class_counts[1].label_text(), "5");
        // A file from before formats reads as format 1; one from a newer goodfit is refused.
        let old = json!({"rows": 4, "training_split": {"rows": 3, "class_counts": []}});
        assert_eq!(RunData::from_value(old).unwrap().format, 1);
        std::fs::write(
            &path,
            json!({"format": FORMAT + 1, "training_split": {"rows": 3, "class_counts": []}})
                .to_string(),
        )
        .unwrap();
        let error = RunData::read(&path).unwrap_err().to_string();
        assert!(
            error.contains("newer") && error.contains("data.json"),
            "{error}"
        );
        let error = RunData::from_value(json!({"rows": 4})).unwrap_err();
        assert!(error.contains("training_split"), "{error}");

        let path = dir.path().join("weights.json");
        let weights = RunWeights {
            format: FORMAT,
            report: body(&json!({"layers": [], "flags": ["x"]})).unwrap(),
        };
        weights.write(&path).unwrap();
        assert_eq!(RunWeights::read(&path).unwrap(), weights);
        assert!(body(&json!([1])).is_err());
        assert!(check_format(&json!({"layers": []})).is_ok());
        assert!(check_format(&json!({"format": FORMAT + 1})).is_err());
    }
}
