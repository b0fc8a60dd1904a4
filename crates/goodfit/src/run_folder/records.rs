//! The typed records of a run folder, each read and written here only, with a format
//! version: a reader refuses a record from a newer goodfit instead of misreading it, and
//! a record written before versions existed reads as version 1.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::data::{Label, LabelMap};
use crate::error::{Error, Position, Result};
use crate::io::write_atomic;

/// The format of the records this goodfit writes.
pub const FORMAT: u32 = 1;

fn first_format() -> u32 {
    1
}

/// Validation or test predictions (`predictions_val.json`, `predictions_test.json`): the
/// classes, each example's true class and its class probabilities, for re-deciding,
/// ensembles, soups and the report's curves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predictions {
    /// The record's format.
    #[serde(default = "first_format")]
    pub format: u32,
    /// The classes, in column order.
    pub labels: Vec<Label>,
    /// The true class of each example, as an index into `labels`.
    pub y_true: Vec<usize>,
    /// Per-example class probabilities, one column per label.
    pub proba: Vec<Vec<f64>>,
}

impl Predictions {
    /// The predictions of `targets` with probabilities `proba` over `labels`.
    pub fn new(labels: &LabelMap, targets: &[usize], proba: &[Vec<f64>]) -> Predictions {
        Predictions {
            format: FORMAT,
            labels: labels.labels().to_vec(),
            y_true: targets.to_vec(),
            proba: proba.to_vec(),
        }
    }

    /// Writes the record at `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(Error::serialization)? + "\n";
        write_atomic(path, text.as_bytes())
    }

    /// Reads and checks the record at `path`; errors name the file and the field.
    pub fn read(path: &Path) -> Result<Predictions> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            Error::input(
                Position::line(path, e.line() as u64),
                format!("not what goodfit wrote: {e}"),
            )
        })?;
        Self::from_value(value)
            .map_err(|(field, why)| Error::input(Position::file(path).with_field(field), why))
    }

    /// The record in `value`, checked: a known format, at least two classes, as many truths
    /// as probability rows, each truth a class index and each row one finite number per
    /// class. An error names the field and says what is wrong.
    pub fn from_value(value: Value) -> std::result::Result<Predictions, (&'static str, String)> {
        let record: Predictions = serde_json::from_value(value)
            .map_err(|e| ("labels, y_true or proba", e.to_string()))?;
        if record.format > FORMAT {
            return Err((
                "format",
                format!(
                    "format {} is newer than this goodfit reads ({FORMAT}): update goodfit",
                    record.format
                ),
            ));
        }
        let classes = record.labels.len();
        if classes < 2 {
            return Err(("labels", "fewer than 2 labels".into()));
        }
        if record.y_true.is_empty() {
            return Err(("y_true", "no examples".into()));
        }
        if let Some(i) = record.y_true.iter().position(|&k| k >= classes) {
            return Err((
                "y_true",
                format!("y_true[{i}] is not a class index below {classes}"),
            ));
        }
        if record.proba.len() != record.y_true.len() {
            return Err((
                "proba",
                format!(
                    "{} rows of y_true but {} of proba",
                    record.y_true.len(),
                    record.proba.len()
                ),
            ));
        }
        if let Some(i) = record
            .proba
            .iter()
            .position(|row| row.len() != classes || row.iter().any(|p| !p.is_finite()))
        {
            return Err((
                "proba",
                format!("proba[{i}] does not hold {classes} finite numbers"),
            ));
        }
        Ok(record)
    }

    /// The classes as text, in column order.
    pub fn label_texts(&self) -> Vec<String> {
        self.labels.iter().map(Label::as_text).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn predictions_round_trip_and_older_records_read_as_format_1() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        let labels = LabelMap::from_ordered(vec![Label::Int(0), Label::Text("b".into())]);
        let record = Predictions::new(&labels, &[1, 0], &[vec![0.2, 0.8], vec![0.9, 0.1]]);
        record.write(&path).unwrap();
        assert_eq!(Predictions::read(&path).unwrap(), record);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"format\": 1"), "{text}");

        // Written before records carried a format.
        let old = json!({"labels": [0, 1], "y_true": [1], "proba": [[0.3, 0.7]]});
        assert_eq!(Predictions::from_value(old).unwrap().format, 1);
    }

    #[test]
    fn bad_predictions_name_their_field() {
        for (value, field, why) in [
            (
                json!({"format": 2, "labels": [0, 1], "y_true": [0], "proba": [[1.0, 0.0]]}),
                "format",
                "newer",
            ),
            (
                json!({"labels": [0], "y_true": [0], "proba": [[1.0]]}),
                "labels",
                "fewer than 2",
            ),
            (
                json!({"labels": [0, 1], "y_true": [2], "proba": [[1.0, 0.0]]}),
                "y_true",
                "y_true[0]",
            ),
            (
                json!({"labels": [0, 1], "y_true": [0, 1], "proba": [[1.0, 0.0]]}),
                "proba",
                "2 rows",
            ),
            (
                json!({"labels": [0, 1], "y_true": [0], "proba": [[1.0]]}),
                "proba",
                "proba[0]",
            ),
            (
                json!({"labels": [0, 1], "y_true": [0]}),
                "labels, y_true or proba",
                "proba",
            ),
        ] {
            let (f, message) = Predictions::from_value(value).unwrap_err();
            assert_eq!(f, field);
            assert!(message.contains(why), "{message}");
        }
    }
}
