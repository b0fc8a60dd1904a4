//! The record of one trial, one JSON object per line of `RUN_DIR/trials.jsonl`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Position, Result};
use crate::run_folder::records::FORMAT;
use crate::train::TrainConfig;

fn first_format() -> u32 {
    1
}

/// What a trial tried, why, and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// The record's format (the run folder's [`FORMAT`]); a line from before formats
    /// reads as 1.
    #[serde(default = "first_format")]
    pub format: u32,
    /// 1-based, in the order trials ran.
    pub index: usize,
    /// A short name (`head`, `recipe`, `regularise`).
    pub name: String,
    /// Why it was tried: the evidence and the change, in a line.
    pub why: String,
    /// The settings that differ from the configuration the search was given, as TOML
    /// values written out (`epochs` → `6`).
    pub changes: BTreeMap<String, String>,
    /// What the shared, costly preparation depends on (`train_layers 0, pooling mean,
    /// max_len 128`): trials with the same key share one session.
    pub session: String,
    /// The run folder, relative to the search's (`trials/03-regularise`).
    pub run_dir: String,
    /// The verdicts on the run, as `kind (severity)`.
    pub verdicts: Vec<String>,
    /// The score trials are ranked by (`--select-metric`).
    pub select_metric: String,
    /// Its validation value; `None` when undefined or the trial failed.
    pub val_metric: Option<f64>,
    /// The validation loss of the kept weights.
    pub val_loss: Option<f64>,
    /// Every scalar validation metric of the kept weights (under the decision rule).
    pub val: BTreeMap<String, Option<f64>>,
    /// Epochs asked for.
    pub epochs: usize,
    /// Epochs run.
    pub epochs_run: usize,
    /// The epoch whose weights were kept.
    pub best_epoch: Option<usize>,
    /// Wall-clock seconds of the trial.
    pub seconds: f64,
    /// Why the trial failed, when it did (a diverged loss, say); the search goes on.
    pub error: Option<String>,
    /// Whether the search chose it: its model is the run folder's `model/`.
    pub chosen: bool,
    /// Whether it is a member of the ensemble the search chose (`ensemble.json`).
    #[serde(default)]
    pub in_ensemble: bool,
    /// How cross-validation scored it, when the search cross-validates (see
    /// [`super::folds`]); `val_metric` is then the out-of-fold score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv: Option<TrialCv>,
}

impl TrialCv {
    /// ` ± SE (F of K folds)`, after the score.
    pub fn describe(&self) -> String {
        let se = self
            .standard_error
            .map_or(String::new(), |e| format!(" ± {e:.4}"));
        let adjusted = self
            .adjusted_by
            .map_or(String::new(), |r| format!(", adjusted by trial {r}"));
        format!("{se} ({} of {} folds{adjusted})", self.folds.len(), self.k)
    }
}

/// A trial's cross-validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialCv {
    /// Folds in the partition.
    pub k: usize,
    /// The folds run (1-based), in order.
    pub folds: Vec<usize>,
    /// The select score of each fold run's held-out rows.
    pub fold_scores: Vec<Option<f64>>,
    /// The standard error of the mean fold score (two folds or more).
    pub standard_error: Option<f64>,
    /// The out-of-fold score on the rows of the folds run, before any adjustment.
    pub score_on_folds_run: Option<f64>,
    /// When fewer than `k` folds ran: the trial whose scores on the same rows put this one
    /// on the footing of all rows (`val_metric` is the adjusted score).
    pub adjusted_by: Option<usize>,
    /// What `model/` is: a refit on every row, or the fold models' average.
    pub model: String,
}

impl Trial {
    /// The trial in one line, for the terminal.
    pub fn summary(&self) -> String {
        let outcome = match &self.error {
            Some(error) => format!("failed: {error}"),
            None => format!(
                "val {} {}{}, val loss {}, {:.1} s [{}]",
                self.select_metric,
                self.val_metric
                    .map_or("undefined".into(), |v| format!("{v:.4}")),
                self.cv.as_ref().map_or(String::new(), TrialCv::describe),
                self.val_loss
                    .map_or("undefined".into(), |v| format!("{v:.4}")),
                self.seconds,
                self.verdicts.join(", ")
            ),
        };
        format!(
            "trial {} {}: {outcome} — {}",
            self.index, self.name, self.why
        )
    }

    /// Appends the trial as one line to `path` (created when missing), so that the trials
    /// done survive a crash of the ones after.
    pub fn append(&self, path: &Path) -> Result<()> {
        let line = serde_json::to_string(self).map_err(Error::serialization)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        writeln!(file, "{line}").map_err(|e| Error::io(path, e))
    }
}

/// Writes `trials` to `path`, one per line, replacing the file atomically.
pub fn write_trials(path: &Path, trials: &[Trial]) -> Result<()> {
    crate::train::trainer::write_json_lines(path, trials)
}

/// Reads a `trials.jsonl`; a line that is not a trial is an error naming it.
pub fn read_trials(path: &Path) -> Result<Vec<Trial>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_trials(&text, path)
}

/// The trials in `text`, the contents of `path` (which errors name).
pub fn parse_trials(text: &str, path: &Path) -> Result<Vec<Trial>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let at = || Position::line(path, i as u64 + 1);
            let trial: Trial = serde_json::from_str(line)
                .map_err(|e| Error::input(at(), format!("not a trial: {e}")))?;
            if trial.format > FORMAT {
                return Err(Error::input(
                    at(),
                    format!(
                        "format {} is newer than this goodfit reads ({FORMAT}): update goodfit",
                        trial.format
                    ),
                ));
            }
            Ok(trial)
        })
        .collect()
}

/// The settings of `config` that differ from `base`, as written in `config.toml`; the run
/// folder and the test file, which every trial sets its own way, are left out.
pub fn changes(base: &TrainConfig, config: &TrainConfig) -> Result<BTreeMap<String, String>> {
    let table = |c: &TrainConfig| -> Result<toml::Table> {
        let text = c.to_toml()?;
        text.parse()
            .map_err(|e: toml::de::Error| Error::serialization(e))
    };
    let (before, after) = (table(base)?, table(config)?);
    let mut changed = BTreeMap::new();
    for (key, value) in &after {
        if key == "out" || key == "test" || before.get(key) == Some(value) {
            continue;
        }
        let text = match value {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        changed.insert(key.clone(), text);
    }
    for key in before.keys() {
        if !after.contains_key(key) && key != "out" && key != "test" {
            changed.insert(key.clone(), "unset".into());
        }
    }
    Ok(changed)
}

#[cfg(test)]
impl Trial {
    /// A finished fine-tune's record for tests (a regularised trial, validation macro-F1
    /// 0.8125).
    pub(crate) fn example(index: usize) -> Trial {
        Trial {
            format: crate::run_folder::records::FORMAT,
            index,
            name: "regularise".into(),
            why: "overfitting (low): … → weight decay 0.05".into(),
            changes: BTreeMap::from([("weight_decay".into(), "0.05".into())]),
            session: "train_layers 2, pooling mean, max_len 128".into(),
            run_dir: format!("trials/{index:02}-regularise"),
            verdicts: vec!["good fit (low)".into()],
            select_metric: "f1_macro".into(),
            val_metric: Some(0.8125),
            val_loss: Some(0.41),
            val: BTreeMap::from([("f1_macro".into(), Some(0.8125)), ("roc_auc".into(), None)]),
            epochs: 3,
            epochs_run: 2,
            best_epoch: Some(1),
            seconds: 12.5,
            error: None,
            chosen: false,
            in_ensemble: false,
            cv: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trials_round_trip_through_jsonl_appended_or_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trials.jsonl");
        let (a, mut b) = (Trial::example(1), Trial::example(2));
        b.error = Some("training diverged".into());
        b.val_metric = None;
        a.append(&path).unwrap();
        b.append(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
        assert_eq!(read_trials(&path).unwrap(), [a.clone(), b.clone()]);
        b.chosen = true;
        write_trials(&path, &[a.clone(), b.clone()]).unwrap();
        assert_eq!(read_trials(&path).unwrap(), [a, b]);
        assert!(Trial::example(3)
            .summary()
            .starts_with("trial 3 regularise: val f1_macro 0.8125"));

        std::fs::write(&path, "{\"index\": 1}\n").unwrap();
        let error = read_trials(&path).unwrap_err().to_string();
        assert!(error.contains("trials.jsonl:1: not a trial"), "{error}");
        let mut newer = Trial::example(4);
        newer.format = FORMAT + 1;
        write_trials(&path, &[Trial::example(1), newer]).unwrap();
        let error = read_trials(&path).unwrap_err().to_string();
        assert!(
            error.contains("trials.jsonl:2") && error.contains("newer"),
            "{error}"
        );
    }

    #[test]
    fn changes_name_only_what_differs() {
        let base = TrainConfig {
            out: "runs/a".into(),
            test: Some("test.csv".into()),
            ..TrainConfig::default()
        };
        let trial = TrainConfig {
            out: "runs/a/trials/01".into(),
            test: None,
            epochs: 6,
            train_layers: crate::model::TrainLayers::Top(0),
            head_hidden: Some(256),
            ..base.clone()
        };
        let changed = changes(&base, &trial).unwrap();
        assert_eq!(
            changed,
            BTreeMap::from([
                ("epochs".to_string(), "6".to_string()),
                ("head_hidden".to_string(), "256".to_string()),
                ("train_layers".to_string(), "0".to_string()),
            ])
        );
        assert!(changes(&trial, &base).unwrap().contains_key("head_hidden"));
    }
}
