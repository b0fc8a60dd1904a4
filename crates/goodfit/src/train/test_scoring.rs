//! Scoring a finished run folder on the test file through what it predicts with — its
//! model, or the ensemble its `ensemble.json` names — as `goodfit eval` would. A run whose
//! prediction is not its one trained classifier (a search's choice, a cross-validated
//! fine-tune's fold models) is scored here after training, never inside the fit.

use std::path::Path;

use crate::data::LabelMap;
use crate::decision::predict_all;
use crate::error::{Error, Result};
use crate::metrics::{self, Metrics};
use crate::run_folder::metrics::RunMetrics;
use crate::run_folder::{METRICS_FILE, TEST_PREDICTIONS_FILE};

use super::data::read_texts;
use super::observer::Observer;
use super::predictor::Predictor;
use super::records::write_predictions;
use super::TrainConfig;

/// A saved model's loss and metrics on the test file.
#[derive(Debug, Clone)]
pub struct TestScore {
    /// Mean negative log-likelihood of the true classes.
    pub loss: f64,
    /// The metrics under the model's decision rule.
    pub metrics: Metrics,
}

/// A model's scores on the test file, with what `predictions_test.json` needs.
pub struct TestScored {
    /// The scores.
    pub score: TestScore,
    /// The model's classes.
    pub labels: LabelMap,
    /// The test rows' true classes.
    pub targets: Vec<usize>,
    /// The predicted probabilities, row by row.
    pub proba: Vec<Vec<f64>>,
}

impl TestScored {
    /// Writes the scores into the run folder `run`: `predictions_test.json`, and the test
    /// loss and metrics in `metrics.json`.
    pub fn write(&self, run: &Path) -> Result<()> {
        write_predictions(
            &run.join(TEST_PREDICTIONS_FILE),
            &self.labels,
            &self.targets,
            &self.proba,
        )?;
        add_test_metrics(&run.join(METRICS_FILE), &self.score)
    }
}

/// Scores what the run folder `run` predicts with (its model, or its ensemble) on the
/// labelled file `test`, under its decision rule, as `goodfit eval` would. `config` says how
/// the file is read (columns, lengths, batch size).
pub fn score_test(
    run: &Path,
    test: &Path,
    config: &TrainConfig,
    observer: &dyn Observer,
) -> Result<TestScored> {
    let predictor = Predictor::open(run)?;
    let (texts, dataset) = read_texts(test, config, observer)?;
    let labels = predictor.info.label_map();
    let targets = dataset.class_indices(&labels)?;
    observer.eval_start("test", texts.len() * predictor.members.len());
    let proba = predictor
        .predict(&texts, test, config.eval_batch_size, &mut |n| {
            observer.eval_progress(n)
        })?
        .proba;
    let predicted = predict_all(&proba, predictor.info.decision.as_ref());
    let metrics = metrics::compute(&targets, &predicted, Some(&proba), &labels)?;
    Ok(TestScored {
        score: TestScore {
            // The metric suite computes the log-loss from the probabilities already.
            loss: metrics.get("log_loss").unwrap_or(f64::NAN),
            metrics,
        },
        labels,
        targets,
        proba,
    })
}

/// Adds the test scores to a run folder's `metrics.json` (its training never saw the test
/// file).
pub fn add_test_metrics(path: &Path, score: &TestScore) -> Result<()> {
    let test = serde_json::to_value(&score.metrics).map_err(Error::serialization)?;
    RunMetrics::update(path, |metrics| {
        metrics.test_loss = Some(score.loss);
        metrics.test = Some(test);
    })
}
