//! Reading a finished run folder: the three files every run has, and the optional ones that
//! add sections to the report.
//!
//! Values are read leniently — a missing or `null` number is "undefined", not an error —
//! because a run written by an older or newer goodfit should still give a report. Only a
//! required file that is absent or not what it claims to be stops the report.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::error::{Error, Position, Result};
use crate::run_folder::records;
use crate::run_folder::{
    CONFIG_FILE, DATA_FILE, DIAGNOSIS_FILE, HISTORY_FILE, LEARNING_CURVE_FILE, METRICS_FILE,
    TEST_PREDICTIONS_FILE, VAL_PREDICTIONS_FILE, WEIGHTS_FILE,
};

use super::format::json_text;

/// Everything the report shows, read from a run folder.
#[derive(Debug, Clone)]
pub struct Run {
    /// The run folder.
    pub dir: PathBuf,
    /// One record per finished epoch (`history.jsonl`), in file order.
    pub history: Vec<Epoch>,
    /// The final numbers (`metrics.json`).
    pub summary: Summary,
    /// The run's settings (`config.toml`).
    pub config: toml::Table,
    /// `diagnosis.json`.
    pub diagnosis: Optional<Value>,
    /// `data.json`: the training data summary of `goodfit inspect --json`.
    pub data: Optional<Value>,
    /// `data_audit.json`: what `goodfit audit` found (a run trained with `--audit`).
    pub audit: Optional<crate::run_folder::summaries::RunAudit>,
    /// `gallery.json`: an image run's pictures.
    pub gallery: Optional<crate::run_folder::gallery::Gallery>,
    /// `weights.json`.
    pub weights: Optional<Value>,
    /// `predictions_val.json`.
    pub predictions_val: Optional<Predictions>,
    /// `predictions_test.json`.
    pub predictions_test: Optional<Predictions>,
    /// `learning_curve.json` (`goodfit learning-curve`).
    pub learning_curve: Optional<Value>,
    /// `trials.jsonl` (`goodfit train --auto`): one record per trial.
    pub trials: Optional<Vec<crate::auto::Trial>>,
    /// `auto.json` (`goodfit train --auto`): the choice and the test scores.
    pub auto: Optional<Value>,
}

/// An optional file: absent, read, or present but unusable (its section then says why
/// instead of silently vanishing).
#[derive(Debug, Clone)]
pub enum Optional<T> {
    /// The file is not in the run folder.
    Absent,
    /// The file, read.
    Present(T),
    /// The file is there but could not be used; the message names it.
    Unreadable(String),
}

impl<T> Optional<T> {
    /// The value, when the file was read.
    pub fn get(&self) -> Option<&T> {
        match self {
            Optional::Present(value) => Some(value),
            _ => None,
        }
    }
}

/// One line of `history.jsonl`.
pub type Epoch = records::EpochRecord;

/// `metrics.json`: how the run ended and its final scores.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The epoch whose weights were kept.
    pub best_epoch: Option<f64>,
    /// Epochs trained.
    pub epochs_run: Option<f64>,
    /// Whether early stopping ended the run.
    pub stopped_early: Option<bool>,
    /// What early stopping watched (`val_loss` or `val_<metric>`).
    pub monitor: Option<String>,
    /// Wall-clock seconds of the whole run.
    pub seconds: Option<f64>,
    /// Validation loss of the kept weights.
    pub val_loss: Option<f64>,
    /// Test loss of the kept weights.
    pub test_loss: Option<f64>,
    /// Validation scores of the kept weights.
    pub val: Option<SetMetrics>,
    /// Test scores of the kept weights.
    pub test: Option<SetMetrics>,
    /// The decision rule and its evidence (`decision` of metrics.json), when one was set.
    pub decision: Option<Value>,
}

/// The metrics of one evaluated set (the `val` or `test` object of `metrics.json`).
#[derive(Debug, Clone, Default)]
pub struct SetMetrics {
    /// Every scalar metric as found (`None`: undefined).
    pub scalars: Map<String, Value>,
    /// The classes, in matrix order.
    pub labels: Vec<String>,
    /// Counts, true class by row and predicted class by column; `None` when absent or not
    /// a square matrix matching `labels`.
    pub confusion: Option<Vec<Vec<f64>>>,
    /// Per-class scores, in label order.
    pub per_class: Vec<ClassScores>,
}

impl SetMetrics {
    /// A scalar metric; `None` when undefined.
    pub fn get(&self, key: &str) -> Option<f64> {
        self.scalars
            .get(key)
            .and_then(Value::as_f64)
            .filter(|x| x.is_finite())
    }
}

/// One class's precision, recall, F1 and support.
#[derive(Debug, Clone)]
pub struct ClassScores {
    /// The class.
    pub label: String,
    /// Precision.
    pub precision: Option<f64>,
    /// Recall.
    pub recall: Option<f64>,
    /// F1.
    pub f1: Option<f64>,
    /// Examples of the class.
    pub support: Option<f64>,
}

/// A prediction file: the truth and the predicted probabilities of one set.
#[derive(Debug, Clone)]
pub struct Predictions {
    /// The classes, in column order.
    pub labels: Vec<String>,
    /// The true class of each example, as an index into `labels`.
    pub y_true: Vec<usize>,
    /// Per-example class probabilities, one column per label.
    pub proba: Vec<Vec<f64>>,
}

/// Reads the run folder `dir`.
pub fn read_run(dir: &Path) -> Result<Run> {
    let history = read_history(&dir.join(HISTORY_FILE))?;
    let summary = read_summary(&dir.join(METRICS_FILE))?;
    let config = read_config(&dir.join(CONFIG_FILE))?;
    Ok(Run {
        dir: dir.to_path_buf(),
        history,
        summary,
        config,
        diagnosis: optional_json(&dir.join(DIAGNOSIS_FILE), checked_format),
        data: optional_json(&dir.join(DATA_FILE), checked_format),
        audit: optional_json(&dir.join(crate::run_folder::AUDIT_SUMMARY_FILE), |v| {
            use crate::run_folder::summaries::Summary;
            crate::run_folder::summaries::RunAudit::from_value(v)
        }),
        gallery: optional_json(
            &dir.join(crate::run_folder::GALLERY_FILE),
            crate::run_folder::gallery::Gallery::from_value,
        ),
        weights: optional_json(&dir.join(WEIGHTS_FILE), checked_format),
        predictions_val: optional_json(&dir.join(VAL_PREDICTIONS_FILE), predictions),
        predictions_test: optional_json(&dir.join(TEST_PREDICTIONS_FILE), predictions),
        learning_curve: optional_json(&dir.join(LEARNING_CURVE_FILE), Ok),
        trials: {
            let path = dir.join(crate::auto::TRIALS_FILE);
            optional_text(&path, |text| {
                crate::auto::trial::parse_trials(text, &path).map_err(|e| e.to_string())
            })
        },
        auto: optional_json(&dir.join(crate::auto::AUTO_FILE), checked_format),
    })
}

/// The text of a file the report cannot do without.
fn read_required(path: &Path) -> Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::input(
            Position::file(path),
            "missing: a finished run folder has this file (is this a goodfit run folder?)",
        )),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            Err(Error::input(Position::file(path), "not UTF-8 text"))
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

fn json_error(path: &Path, line_offset: u64, e: &serde_json::Error) -> Error {
    let pos = if e.line() > 0 {
        Position::line(path, line_offset + e.line() as u64).with_column(e.column() as u64)
    } else {
        Position::file(path)
    };
    Error::input(pos, format!("not valid JSON: {e}"))
}

fn read_history(path: &Path) -> Result<Vec<Epoch>> {
    // The report says which file a run folder lacks, as for its other required files.
    read_required(path)?;
    records::read_history(path)
}

fn read_summary(path: &Path) -> Result<Summary> {
    let text = read_required(path)?;
    let value: Value = serde_json::from_str(&text).map_err(|e| json_error(path, 0, &e))?;
    let Value::Object(map) = value else {
        return Err(Error::input(Position::file(path), "expected a JSON object"));
    };
    let number = |key: &str| {
        map.get(key)
            .and_then(Value::as_f64)
            .filter(|x| x.is_finite())
    };
    Ok(Summary {
        best_epoch: number("best_epoch"),
        epochs_run: number("epochs_run"),
        stopped_early: map.get("stopped_early").and_then(Value::as_bool),
        monitor: map
            .get("monitor")
            .and_then(Value::as_str)
            .map(str::to_string),
        seconds: number("seconds"),
        val_loss: number("val_loss"),
        test_loss: number("test_loss"),
        val: map.get("val").and_then(set_metrics),
        test: map.get("test").and_then(set_metrics),
        decision: map.get("decision").filter(|d| d.is_object()).cloned(),
    })
}

/// The metrics of one set, or `None` when the value is not an object.
pub fn set_metrics(value: &Value) -> Option<SetMetrics> {
    let map = value.as_object()?;
    let labels: Vec<String> = map
        .get("labels")
        .and_then(Value::as_array)
        .map(|labels| labels.iter().map(label_text).collect())
        .unwrap_or_default();
    let confusion = map
        .get("confusion_matrix")
        .and_then(|m| matrix(m, labels.len()));
    let per_class = match map.get("per_class").and_then(Value::as_object) {
        Some(classes) => {
            // Label order when the labels are known; else the object's own order.
            let names: Vec<String> = if labels.is_empty() {
                classes.keys().cloned().collect()
            } else {
                labels.clone()
            };
            names
                .iter()
                .map(|label| {
                    let scores = classes.get(label.as_str());
                    let get = |k: &str| {
                        scores
                            .and_then(|s| s.get(k))
                            .and_then(Value::as_f64)
                            .filter(|x| x.is_finite())
                    };
                    ClassScores {
                        label: label.clone(),
                        precision: get("precision"),
                        recall: get("recall"),
                        f1: get("f1"),
                        support: get("support"),
                    }
                })
                .collect()
        }
        None => Vec::new(),
    };
    Some(SetMetrics {
        scalars: map.clone(),
        labels,
        confusion,
        per_class,
    })
}

/// A label as text: strings as they are, integer labels as numbers.
fn label_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => json_text(other),
    }
}

/// An `n`×`n` matrix of finite numbers, or `None`.
fn matrix(value: &Value, n: usize) -> Option<Vec<Vec<f64>>> {
    let rows = value.as_array()?;
    if n == 0 || rows.len() != n {
        return None;
    }
    rows.iter()
        .map(|row| {
            let row = row.as_array()?;
            if row.len() != n {
                return None;
            }
            row.iter()
                .map(|v| v.as_f64().filter(|x| x.is_finite()))
                .collect()
        })
        .collect()
}

fn read_config(path: &Path) -> Result<toml::Table> {
    let text = read_required(path)?;
    text.parse::<toml::Table>().map_err(|e| {
        // The parser knows the byte span; people want a line number.
        let pos = match e.span() {
            Some(span) => {
                let before = text.get(..span.start).unwrap_or(&text);
                let line = before.matches('\n').count() as u64 + 1;
                Position::line(path, line)
            }
            None => Position::file(path),
        };
        Error::input(pos, format!("not valid TOML: {}", e.message()))
    })
}

/// Reads an optional JSON file and turns it into `T` with `convert` (which says what is
/// wrong when the JSON is not what the report expects).
/// `value`, unless a newer goodfit wrote it.
fn checked_format(value: Value) -> std::result::Result<Value, String> {
    crate::run_folder::summaries::check_format(&value).map(|()| value)
}

fn optional_json<T>(
    path: &Path,
    convert: impl FnOnce(Value) -> std::result::Result<T, String>,
) -> Optional<T> {
    optional_text(path, |text| {
        let value =
            serde_json::from_str::<Value>(text).map_err(|e| format!("not valid JSON: {e}"))?;
        convert(value)
    })
}

/// Reads an optional text file and turns it into `T` with `parse` (which says what is
/// wrong when the text is not what the report expects).
fn optional_text<T>(
    path: &Path,
    parse: impl FnOnce(&str) -> std::result::Result<T, String>,
) -> Optional<T> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Optional::Absent,
        Err(e) => return Optional::Unreadable(format!("{name}: {e}")),
    };
    match parse(&text) {
        Ok(v) => Optional::Present(v),
        Err(why) => Optional::Unreadable(format!("{name}: {why}")),
    }
}

/// A prediction file, checked as its record is (see [`records::Predictions`]).
fn predictions(value: Value) -> std::result::Result<Predictions, String> {
    let record = records::Predictions::from_value(value).map_err(|(_, why)| why)?;
    Ok(Predictions {
        labels: record.label_texts(),
        y_true: record.y_true,
        proba: record.proba,
    })
}
