//! Writing a finished fit into its run folder: predictions, the decision rule, metrics, the
//! data summary, weight statistics, the saved model, the verdicts and the report. A single
//! fit ([`super::trainer::train_in_session`]) and a cross-validated one
//! ([`super::cross_val`]) both end here.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use candle_core::Tensor;
use serde_json::Value;

use crate::decision::DecisionRule;
use crate::error::{Error, Result};
use crate::model::weight_stats::weight_report;
use crate::model::{save_classifier, Classifier, ClassifierInfo, Params};

use super::config::TrainConfig;
use super::decide::{decide, summarise_decision};
use super::evaluate::Scored;
use super::evaluate::Scorer;
use super::gallery::Pictures;
use super::imbalance::class_counts;
use super::observer::{Observer, Silent};
use super::records::{write_predictions, RunResult};
use super::session::Session;
use crate::run_folder::metrics::RunMetrics;
use crate::run_folder::records::{EpochRecord, FORMAT};
use crate::run_folder::summaries::{body, ClassCount, RunData, RunWeights, Summary, TrainingSplit};
use crate::run_folder::{
    DATA_FILE, GALLERY_FILE, METRICS_FILE, MODEL_DIR, TEST_PREDICTIONS_FILE, VAL_PREDICTIONS_FILE,
    WEIGHTS_FILE,
};

/// What a fit leaves to write.
pub(crate) struct RunOutcome<'a> {
    /// The classifier with the weights to keep (it scores the test set).
    pub classifier: &'a Classifier,
    /// Its weights, saved as `model/`.
    pub params: &'a Params,
    /// The weights training started from (θ₀ for drift).
    pub start_weights: &'a BTreeMap<String, Tensor>,
    /// One record per epoch, as `history.jsonl` holds them.
    pub history: &'a [EpochRecord],
    /// The epoch whose weights were kept.
    pub best_epoch: Option<usize>,
    /// Epochs trained.
    pub epochs_run: usize,
    /// Whether early stopping ended training.
    pub stopped_early: bool,
    /// Seconds spent fitting.
    pub seconds: f64,
    /// The classes of the rows trained on (their counts are the prior).
    pub train_targets: &'a [usize],
    /// Loss, metrics and probabilities of the held-out rows.
    pub val: &'a Scored,
    /// The held-out rows' classes.
    pub val_targets: &'a [usize],
    /// The held-out rows' inputs, in the same order.
    pub val_inputs: &'a [crate::model::Example],
    /// A cross-validated fit's section of `metrics.json`.
    pub cross_validation: Option<Value>,
}

/// Writes everything a run folder holds after training, from `outcome`, and returns what
/// the run reports (its verdicts included) and the decision rule chosen on the held-out
/// rows.
pub(crate) fn write_run(
    session: &Session,
    out: &Path,
    outcome: &RunOutcome<'_>,
    observer: &dyn Observer,
) -> Result<(RunResult, Option<DecisionRule>)> {
    let final_start = Instant::now();
    let config = &session.config;
    let data = &session.data;
    write_predictions(
        &out.join(VAL_PREDICTIONS_FILE),
        &data.labels,
        outcome.val_targets,
        &outcome.val.proba,
    )?;
    let test_scored = match &data.test {
        Some(test) => {
            let cached = session.cache.as_ref().and_then(|c| c.test.as_ref());
            let scored = Scorer::new(session, &Silent).score(
                outcome.classifier,
                test,
                cached,
                None,
                "test",
            )?;
            write_predictions(
                &out.join(TEST_PREDICTIONS_FILE),
                &data.labels,
                &test.targets,
                &scored.proba,
            )?;
            Some((test, scored))
        }
        None => None,
    };
    let augmentation = match &session.folder.config {
        crate::model::ModelConfig::Image(image) => Some(super::gallery::Augmentation {
            augment: config.image_augment(),
            size: image.image_size as u32,
            seed: config.seed,
        }),
        crate::model::ModelConfig::Text(_) => None,
    };
    let pictures = super::gallery::gallery(
        &data.labels,
        Pictures {
            examples: &data.train.encoded,
            targets: &data.train.targets,
            proba: None,
        },
        &[
            (
                "validation",
                Pictures {
                    examples: outcome.val_inputs,
                    targets: outcome.val_targets,
                    proba: Some(&outcome.val.proba),
                },
            ),
            (
                "test",
                Pictures {
                    examples: test_scored.as_ref().map_or(&[][..], |(t, _)| &t.encoded),
                    targets: test_scored.as_ref().map_or(&[][..], |(t, _)| &t.targets),
                    proba: test_scored.as_ref().map(|(_, s)| s.proba.as_slice()),
                },
            ),
        ],
        augmentation.as_ref(),
    )?;
    if let Some(pictures) = pictures {
        pictures.write(&out.join(GALLERY_FILE))?;
    }
    let counts = class_counts(outcome.train_targets, data.labels.len());
    let decided = decide(
        config,
        &data.labels,
        &counts,
        (
            &outcome.val.metrics,
            &outcome.val.proba,
            outcome.val_targets,
        ),
        test_scored
            .as_ref()
            .map(|(t, s)| (&s.metrics, s.proba.as_slice(), t.targets.as_slice())),
    )?;
    let test = test_scored
        .as_ref()
        .map(|(_, scored)| scored.loss)
        .zip(decided.test.clone());
    write_data_summary(out, session, &counts, outcome.train_targets.len())?;
    let updates: Vec<BTreeMap<String, f64>> = outcome
        .history
        .iter()
        .map(|r| {
            r.update_ratio
                .iter()
                .filter_map(|(name, ratio)| Some((name.clone(), (*ratio)?)))
                .collect()
        })
        .collect();
    let trainable: Vec<String> = outcome.params.vars().keys().cloned().collect();
    let tensors = outcome.params.tensors();
    let weights = weight_report(
        &tensors,
        outcome.start_weights,
        &trainable,
        &updates,
        &outcome.classifier.places(tensors.keys()),
    )?;
    RunWeights {
        format: FORMAT,
        report: body(&weights)?,
    }
    .write(&out.join(WEIGHTS_FILE))?;

    let rule = decided.decision.as_ref().map(|d| d.rule.clone());
    save_model(
        session,
        &out.join(MODEL_DIR),
        (outcome.params, outcome.classifier),
        &counts,
        rule.clone(),
    )?;
    let result = RunResult {
        out: out.to_path_buf(),
        best_epoch: outcome.best_epoch,
        epochs_run: outcome.epochs_run,
        stopped_early: outcome.stopped_early,
        val_loss: outcome.val.loss,
        val: decided.val.clone(),
        test,
        decision: decided.doc.as_ref().map(summarise_decision),
        seconds: outcome.seconds + final_start.elapsed().as_secs_f64(),
    };
    write_metrics(
        out,
        &result,
        config,
        decided.doc,
        outcome.cross_validation.clone(),
    )?;
    for flag in &weights.flags {
        observer.message(flag);
    }
    Ok((result, rule))
}

/// Saves `params` (and the buffers of the `classifier` they belong to: BatchNorm's running
/// statistics) as the session's classifier in the model folder `dir`, with the training
/// rows' class `counts` and the decision `rule`.
pub(crate) fn save_model(
    session: &Session,
    dir: &Path,
    (params, classifier): (&Params, &Classifier),
    counts: &[usize],
    rule: Option<DecisionRule>,
) -> Result<()> {
    let config = &session.config;
    let info = ClassifierInfo {
        labels: session.data.labels.labels().to_vec(),
        pooling: config.pooling,
        max_len: config.max_len,
        head_hidden: config.head_hidden,
        text_col: config.text_col.clone(),
        label_col: config.label_col.clone(),
        class_counts: counts.to_vec(),
        decision: rule,
    };
    let mut weights = params.tensors();
    weights.extend(classifier.backbone().buffers()?);
    save_classifier(
        dir,
        &session.folder,
        &session.preprocessor,
        &weights,
        &info,
        config.dropout,
    )
}

fn write_metrics(
    out: &Path,
    result: &RunResult,
    config: &TrainConfig,
    decision: Option<Value>,
    cross_validation: Option<Value>,
) -> Result<()> {
    let scores =
        |m: &crate::metrics::Metrics| serde_json::to_value(m).map_err(Error::serialization);
    RunMetrics {
        format: FORMAT,
        best_epoch: result.best_epoch,
        epochs_run: result.epochs_run,
        stopped_early: result.stopped_early,
        monitor: config.monitor.clone(),
        seconds: result.seconds,
        val_loss: Some(result.val_loss).filter(|x| x.is_finite()),
        val: scores(&result.val)?,
        test_loss: result.test.as_ref().map(|(loss, _)| *loss),
        test: result.test.as_ref().map(|(_, m)| scores(m)).transpose()?,
        decision,
        cross_validation,
        ensemble: None,
    }
    .write(&out.join(METRICS_FILE))
}

/// `goodfit inspect`'s summary of the training file, plus the class `counts` of the `rows`
/// actually trained on (after the validation split; every row under cross-validation).
fn write_data_summary(out: &Path, session: &Session, counts: &[usize], rows: usize) -> Result<()> {
    let data = &session.data;
    let class_counts = data
        .labels
        .labels()
        .iter()
        .zip(counts)
        .map(|(label, &count)| {
            Ok(ClassCount {
                label: serde_json::to_value(label).map_err(Error::serialization)?,
                count,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    RunData {
        format: FORMAT,
        training_split: TrainingSplit { rows, class_counts },
        summary: body(&data.summary)?,
    }
    .write(&out.join(DATA_FILE))
}
