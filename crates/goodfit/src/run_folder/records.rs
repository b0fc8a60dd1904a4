//! The typed records of a run folder, each read and written here only, with a format
//! version: a reader refuses a record from a newer goodfit instead of misreading it, and
//! a record written before versions existed reads as version 1.

use std::collections::BTreeMap;
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

/// One line of `history.jsonl`: what an epoch did to the training loss and the weights, and
/// how the training sample and the validation set scored after it. For a cross-validated
/// fit, the folds' records averaged (`folds` says over how many).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The record's format.
    #[serde(default = "first_format")]
    pub format: u32,
    /// The epoch (1-based).
    pub epoch: usize,
    /// Optimizer steps taken by its end.
    #[serde(default)]
    pub step: usize,
    /// The encoder's learning rate at its last step.
    #[serde(default)]
    pub lr: Option<f64>,
    /// Mean training loss over its batches.
    #[serde(default)]
    pub train_loss: Option<f64>,
    /// Mean L1 penalty over its batches.
    #[serde(default)]
    pub penalty: Option<f64>,
    /// ½ · weight decay · the squared norm of the decayed weights at its end.
    #[serde(default)]
    pub l2_term: Option<f64>,
    /// How far each layer's weights moved in it, relative to their size.
    #[serde(default)]
    pub update_ratio: BTreeMap<String, Option<f64>>,
    /// Validation loss after it.
    #[serde(default)]
    pub val_loss: Option<f64>,
    /// Wall-clock seconds.
    #[serde(default)]
    pub seconds: f64,
    /// For a cross-validated fit: the folds that reached this epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folds: Option<usize>,
    /// The metrics of the training sample (`train_<name>`) and the validation set
    /// (`val_<name>`); `None` where undefined.
    #[serde(flatten)]
    pub metrics: BTreeMap<String, Option<f64>>,
}

impl EpochRecord {
    /// A figure by its key in `history.jsonl` (`val_loss`, `train_f1_macro`, …); `None`
    /// when absent, undefined or not finite.
    pub fn get(&self, key: &str) -> Option<f64> {
        let value = match key {
            "epoch" => Some(self.epoch as f64),
            "step" => Some(self.step as f64),
            "lr" => self.lr,
            "train_loss" => self.train_loss,
            "penalty" => self.penalty,
            "l2_term" => self.l2_term,
            "val_loss" => self.val_loss,
            "seconds" => Some(self.seconds),
            "folds" => self.folds.map(|f| f as f64),
            other => self.metrics.get(other).copied().flatten(),
        };
        value.filter(|v| v.is_finite())
    }

    /// The record of epoch `epoch` averaged over `records` (one per fold that reached it):
    /// each figure the mean of the folds' where every fold has it, else undefined.
    pub fn average(records: &[&EpochRecord], epoch: usize) -> EpochRecord {
        let n = records.len().max(1) as f64;
        let mean = |get: &dyn Fn(&EpochRecord) -> Option<f64>| -> Option<f64> {
            let values: Option<Vec<f64>> = records.iter().map(|r| get(r)).collect();
            values.map(|v| v.iter().sum::<f64>() / n)
        };
        let keyed = |maps: Vec<&BTreeMap<String, Option<f64>>>| -> BTreeMap<String, Option<f64>> {
            let Some(first) = maps.first() else {
                return BTreeMap::new();
            };
            first
                .keys()
                .map(|key| {
                    let values: Option<Vec<f64>> =
                        maps.iter().map(|m| m.get(key).copied().flatten()).collect();
                    (key.clone(), values.map(|v| v.iter().sum::<f64>() / n))
                })
                .collect()
        };
        EpochRecord {
            format: FORMAT,
            epoch,
            step: records.first().map_or(0, |r| r.step),
            lr: mean(&|r| r.lr),
            train_loss: mean(&|r| r.train_loss),
            penalty: mean(&|r| r.penalty),
            l2_term: mean(&|r| r.l2_term),
            update_ratio: keyed(records.iter().map(|r| &r.update_ratio).collect()),
            val_loss: mean(&|r| r.val_loss),
            seconds: records.iter().map(|r| r.seconds).sum::<f64>() / n,
            folds: Some(records.len()),
            metrics: keyed(records.iter().map(|r| &r.metrics).collect()),
        }
    }
}

/// Writes `history` as `history.jsonl` at `path` (one record per line), atomically.
pub fn write_history(path: &Path, history: &[EpochRecord]) -> Result<()> {
    write_json_lines(path, history)
}

/// Writes `records` as JSON Lines (one compact object per line), atomically.
pub fn write_json_lines<T: Serialize>(path: &Path, records: &[T]) -> Result<()> {
    let mut text = String::new();
    for record in records {
        text += &serde_json::to_string(record).map_err(Error::serialization)?;
        text.push('\n');
    }
    write_atomic(path, text.as_bytes())
}

/// Reads `history.jsonl` at `path`: at least one record, each a known format; errors name
/// the line.
pub fn read_history(path: &Path) -> Result<Vec<EpochRecord>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut history = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = Position::line(path, i as u64 + 1);
        let record: EpochRecord = serde_json::from_str(line).map_err(|e| {
            Error::input(
                at.clone(),
                format!("not an epoch record goodfit wrote: {e}"),
            )
        })?;
        if record.format > FORMAT {
            return Err(Error::input(
                at.with_field("format"),
                format!(
                    "format {} is newer than this goodfit reads ({FORMAT}): update goodfit",
                    record.format
                ),
            ));
        }
        history.push(record);
    }
    if history.is_empty() {
        return Err(Error::input(
            Position::file(path),
            "no epochs: the run finished none",
        ));
    }
    Ok(history)
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
    fn epoch_records_keep_history_jsonl_flat_and_average_over_folds() {
        let line = r#"{"epoch":2,"step":10,"lr":0.001,"train_loss":0.5,"update_ratio":{"classifier":0.2},"val_loss":0.4,"train_f1_macro":0.9,"val_f1_macro":null,"seconds":3.0}"#;
        let record: EpochRecord = serde_json::from_str(line).unwrap();
        assert_eq!(record.format, 1, "a line from before formats");
        assert_eq!(record.get("val_loss"), Some(0.4));
        assert_eq!(record.get("train_f1_macro"), Some(0.9));
        assert_eq!(record.get("val_f1_macro"), None);
        assert_eq!(record.get("epoch"), Some(2.0));
        let written: Value = serde_json::to_value(&record).unwrap();
        assert_eq!(
            written["train_f1_macro"],
            json!(0.9),
            "metrics stay top-level keys"
        );
        assert_eq!(written["val_f1_macro"], Value::Null);

        let other = EpochRecord {
            val_loss: Some(0.8),
            train_loss: None,
            ..record.clone()
        };
        let avg = EpochRecord::average(&[&record, &other], 2);
        assert_eq!(avg.folds, Some(2));
        assert!((avg.val_loss.unwrap() - 0.6).abs() < 1e-12);
        assert_eq!(avg.train_loss, None, "one fold lacks it");
        assert_eq!(avg.get("train_f1_macro"), Some(0.9));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.jsonl");
        write_history(&path, &[record.clone(), avg.clone()]).unwrap();
        assert_eq!(read_history(&path).unwrap(), vec![record, avg]);
        std::fs::write(&path, "{\"epoch\": 1}\n{\"epoch\": \"two\"}\n").unwrap();
        let error = read_history(&path).unwrap_err().to_string();
        assert!(error.contains(":2"), "{error}");
        std::fs::write(&path, "{\"format\": 9, \"epoch\": 1}\n").unwrap();
        assert!(read_history(&path)
            .unwrap_err()
            .to_string()
            .contains("newer"));
        std::fs::write(&path, "\n").unwrap();
        assert!(read_history(&path)
            .unwrap_err()
            .to_string()
            .contains("no epochs"));
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
