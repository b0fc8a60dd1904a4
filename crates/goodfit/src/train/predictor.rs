//! What `goodfit predict` and `goodfit eval` run: a run folder's saved classifier, or, when
//! the folder holds `ensemble.json` (written by `goodfit train --auto`), the average of its
//! members' class probabilities.
//!
//! Averaging probabilities (not logits) is what scikit-learn's `VotingClassifier` does with
//! `voting="soft"`; the decision rule, when there is one, is applied to the average.

use std::path::{Path, PathBuf};

use candle_core::Device;
use serde::{Deserialize, Serialize};

use crate::decision::DecisionRule;
use crate::error::{Error, Position, Result};
use crate::model::{ClassifierInfo, SavedClassifier};

use super::evaluate::{predict_texts, softmax};
use super::trainer::MODEL_DIR;

/// The ensemble description in a run folder.
pub use crate::run_folder::ENSEMBLE_FILE;

/// `ensemble.json`: which saved classifiers are averaged, and the rule applied after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleInfo {
    /// The members' model folders, relative to the run folder (so the folder can move).
    pub members: Vec<PathBuf>,
    /// The decision rule applied to the averaged probabilities; none means argmax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionRule>,
    /// The members' weights in the average (summing to 1); none means equal weights. A
    /// trial whose model is itself the average of its fold models joins an ensemble as its
    /// fold models, each with its share of the trial's weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<Vec<f64>>,
}

/// A run's classifier or ensemble, ready to predict.
pub struct Predictor {
    /// The first member's description, with the ensemble's decision rule when it is one.
    pub info: ClassifierInfo,
    /// The classifiers whose probabilities are averaged (one for a plain run).
    pub members: Vec<SavedClassifier>,
    /// Their weights in the average (summing to 1).
    pub weights: Vec<f64>,
}

/// Predictions of a [`Predictor`] for some texts.
pub struct Predicted {
    /// Class probabilities (the members' average).
    pub proba: Vec<Vec<f64>>,
    /// Raw logits of a single classifier; for an ensemble, the log of the averaged
    /// probabilities (which the same softmax turns back into them).
    pub logits: Vec<Vec<f64>>,
}

impl Predictor {
    /// Opens `path`: a run folder with `ensemble.json` (its ensemble), a run folder with a
    /// `model/` folder (that classifier), or a model folder itself.
    pub fn open(path: &Path) -> Result<Predictor> {
        let ensemble = path.join(ENSEMBLE_FILE);
        if ensemble.is_file() {
            return Self::open_ensemble(path, &ensemble);
        }
        let model = path.join(MODEL_DIR);
        let dir = if model.is_dir() { model } else { path.into() };
        let saved = SavedClassifier::open(&dir, &Device::Cpu)?;
        Ok(Predictor {
            info: saved.info.clone(),
            members: vec![saved],
            weights: vec![1.0],
        })
    }

    fn open_ensemble(run: &Path, file: &Path) -> Result<Predictor> {
        let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
        let spec: EnsembleInfo = serde_json::from_str(&text).map_err(|e| {
            Error::input(
                Position::line(file, e.line() as u64),
                format!("not an ensemble description: {e}"),
            )
        })?;
        if spec.members.is_empty() {
            return Err(Error::input(Position::file(file), "members: none listed"));
        }
        let members = spec
            .members
            .iter()
            .map(|m| {
                let dir = crate::io::inside_run(run, m, file, "members")?;
                SavedClassifier::open(&dir, &Device::Cpu)
            })
            .collect::<Result<Vec<_>>>()?;
        let first = &members[0].info;
        for (member, path) in members.iter().zip(&spec.members).skip(1) {
            let info = &member.info;
            if info.labels != first.labels || info.text_col != first.text_col {
                return Err(Error::input(
                    Position::file(file),
                    format!(
                        "members: {} has other classes or another text column than {}",
                        path.display(),
                        spec.members[0].display()
                    ),
                ));
            }
        }
        let weights = match spec.weights {
            None => vec![1.0 / members.len() as f64; members.len()],
            Some(w) => {
                let sum: f64 = w.iter().sum();
                if w.len() != members.len()
                    || w.iter().any(|x| !(x.is_finite() && *x >= 0.0))
                    || sum <= 0.0
                {
                    return Err(Error::input(
                        Position::file(file),
                        format!(
                            "weights: {} non-negative numbers with a positive sum are needed, one per member",
                            members.len()
                        ),
                    ));
                }
                w.iter().map(|x| x / sum).collect()
            }
        };
        let info = ClassifierInfo {
            decision: spec.decision,
            ..first.clone()
        };
        Ok(Predictor {
            info,
            members,
            weights,
        })
    }

    /// Whether this averages more than one classifier.
    pub fn is_ensemble(&self) -> bool {
        self.members.len() > 1
    }

    /// Predicts `texts` (read from the data file `source`: an image model's image paths are
    /// relative to its folder) in batches of `batch_size`; `after_batch` is called with the
    /// number of texts each member has done (so a bar spans `texts × members`).
    pub fn predict(
        &self,
        texts: &[String],
        source: &Path,
        batch_size: usize,
        after_batch: &mut dyn FnMut(usize),
    ) -> Result<Predicted> {
        let mut sets = Vec::with_capacity(self.members.len());
        let mut logits = Vec::new();
        for member in &self.members {
            logits = predict_texts(member, texts, source, batch_size, after_batch)?;
            sets.push(logits.iter().map(|z| softmax(z)).collect::<Vec<_>>());
        }
        if !self.is_ensemble() {
            let proba = sets.pop().unwrap_or_default();
            return Ok(Predicted { proba, logits });
        }
        let slices: Vec<&[Vec<f64>]> = sets.iter().map(Vec::as_slice).collect();
        let proba = weighted_proba(&slices, &self.weights);
        let logits = proba
            .iter()
            .map(|row| row.iter().map(|p| p.ln()).collect())
            .collect();
        Ok(Predicted { proba, logits })
    }
}

/// The probabilities of `sets` averaged row by row (each set is one model's, same rows).
pub fn average_proba(sets: &[&[Vec<f64>]]) -> Vec<Vec<f64>> {
    let n = sets.len().max(1) as f64;
    weighted_proba(sets, &vec![1.0 / n; sets.len()])
}

/// The probabilities of `sets` averaged row by row with `weights` (summing to 1).
pub fn weighted_proba(sets: &[&[Vec<f64>]], weights: &[f64]) -> Vec<Vec<f64>> {
    let rows = sets.first().map_or(0, |s| s.len());
    (0..rows)
        .map(|r| {
            let k = sets[0][r].len();
            (0..k)
                .map(|c| {
                    sets.iter()
                        .zip(weights)
                        .map(|(s, w)| w * s[r][c])
                        .sum::<f64>()
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_row_by_row() {
        let a = vec![vec![0.9, 0.1], vec![0.2, 0.8]];
        let b = vec![vec![0.5, 0.5], vec![0.4, 0.6]];
        let mean = average_proba(&[&a, &b]);
        assert!((mean[0][0] - 0.7).abs() < 1e-12 && (mean[1][1] - 0.7).abs() < 1e-12);
        let weighted = weighted_proba(&[&a, &b], &[0.75, 0.25]);
        assert!((weighted[0][0] - 0.8).abs() < 1e-12 && (weighted[1][1] - 0.75).abs() < 1e-12);
    }

    #[test]
    fn a_bad_ensemble_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(ENSEMBLE_FILE), "{\"members\": [}").unwrap();
        let error = Predictor::open(dir.path()).err().unwrap().to_string();
        assert!(error.contains(ENSEMBLE_FILE), "{error}");
        std::fs::write(dir.path().join(ENSEMBLE_FILE), "{\"members\": []}").unwrap();
        let error = Predictor::open(dir.path()).err().unwrap().to_string();
        assert!(error.contains("none listed"), "{error}");
    }
}
