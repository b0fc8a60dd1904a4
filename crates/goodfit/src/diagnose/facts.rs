//! The facts a diagnosis rests on, read from a finished run folder.

use std::path::Path;

use crate::error::{Error, Position, Result};
use crate::run_folder::metrics::RunMetrics;
use crate::run_folder::records::{read_history, EpochRecord};
use crate::run_folder::summaries::{RunAudit, RunData, Summary};
use crate::run_folder::{AUDIT_SUMMARY_FILE, CONFIG_FILE, DATA_FILE, HISTORY_FILE, METRICS_FILE};
use crate::train::TrainConfig;

/// What the diagnosis looks at.
#[derive(Debug, Clone)]
pub struct RunFacts {
    /// One record per epoch (`history.jsonl`).
    pub history: Vec<EpochRecord>,
    /// The run's settings (`config.toml`).
    pub config: TrainConfig,
    /// The epoch whose weights were kept.
    pub best_epoch: Option<usize>,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Training rows per class, in label order.
    pub class_counts: Vec<usize>,
    /// The class labels, as text.
    pub labels: Vec<String>,
    /// Validation accuracy of the kept weights.
    pub accuracy: f64,
    /// Validation balanced accuracy of the kept weights.
    pub balanced_accuracy: Option<f64>,
    /// Validation confusion matrix (rows true, columns predicted).
    pub confusion: Vec<Vec<u64>>,
    /// What `goodfit audit` found in the training file, for a run trained with `--audit`.
    pub audit: Option<RunAudit>,
}

impl RunFacts {
    /// A series from the history (`None` where a value is undefined).
    pub fn series(&self, key: &str) -> Vec<Option<f64>> {
        self.history.iter().map(|r| r.get(key)).collect()
    }

    /// Reads `history.jsonl`, `metrics.json`, `config.toml` and the training class counts
    /// kept in `data.json` from `run`.
    pub fn read(run: &Path) -> Result<RunFacts> {
        let read = |name: &str| {
            let path = run.join(name);
            std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))
        };
        let history = read_history(&run.join(HISTORY_FILE))?;
        let metrics_path = run.join(METRICS_FILE);
        let metrics = RunMetrics::read(&metrics_path)?;
        let config = TrainConfig::from_toml(&read(CONFIG_FILE)?, &run.join(CONFIG_FILE))?;
        let data = RunData::read(&run.join(DATA_FILE))?;
        let val = &metrics.val;
        let missing =
            |what: &str| Error::input(Position::file(&metrics_path), format!("no {what}"));
        let labels: Vec<String> = val["labels"]
            .as_array()
            .ok_or_else(|| missing("val.labels"))?
            .iter()
            .map(|l| {
                l.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| l.to_string())
            })
            .collect();
        let counted: Vec<(String, usize)> = data
            .training_split
            .class_counts
            .iter()
            .map(|c| (c.label_text(), c.count))
            .collect();
        let class_counts = labels
            .iter()
            .map(|l| {
                counted
                    .iter()
                    .find(|(name, _)| name == l)
                    .map_or(0, |(_, n)| *n)
            })
            .collect();
        let confusion = val["confusion_matrix"]
            .as_array()
            .ok_or_else(|| missing("val.confusion_matrix"))?
            .iter()
            .map(|row| {
                row.as_array()
                    .map(|r| r.iter().map(|v| v.as_u64().unwrap_or(0)).collect())
                    .unwrap_or_default()
            })
            .collect();
        Ok(RunFacts {
            history,
            config,
            best_epoch: metrics.best_epoch,
            stopped_early: metrics.stopped_early,
            class_counts,
            labels,
            accuracy: val["accuracy"]
                .as_f64()
                .ok_or_else(|| missing("val.accuracy"))?,
            balanced_accuracy: val["balanced_accuracy"].as_f64(),
            confusion,
            audit: {
                let path = run.join(AUDIT_SUMMARY_FILE);
                path.exists().then(|| RunAudit::read(&path)).transpose()?
            },
        })
    }
}
