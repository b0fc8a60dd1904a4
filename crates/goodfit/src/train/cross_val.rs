//! Cross-validated training, for data too small for one validation split to judge.
//!
//! With a few hundred rows, a 10% validation split holds one or two examples of a small
//! class, and one of them moves macro-F1 by 0.2: a search choosing on such a split chooses
//! by chance. Here the training and validation rows of a session are pooled and split into
//! k stratified folds (scikit-learn's `StratifiedKFold` idea; [`stratified_kfold`]); each
//! fold in turn is held out while the configuration trains on the others, with early
//! stopping on the held-out fold as in a single run. What the run folder then holds:
//! - `predictions_val.json` and `metrics.json`'s `val`: the out-of-fold predictions of
//!   every row of the folds run (`cross_val_predict`'s), scored once over all of them, with
//!   the decision rule tuned on them; `metrics.json`'s `cross_validation`: every fold's
//!   scores and epochs;
//! - `history.jsonl`: the folds' curves averaged epoch by epoch (a `folds` field says over
//!   how many folds, as early stopping ends some sooner), which the verdicts read;
//! - `model/`: with the encoder frozen, the head trained again on every pooled row for the
//!   median of the folds' best epochs (scikit-learn's `refit`; seconds on cached features);
//!   when encoder layers train, refitting would cost another fine-tune, so the fold models
//!   are kept (`folds/N/model/`), `ensemble.json` averages them, and `model/` is the first.
//!
//! [`stratified_kfold`]: crate::data::stratified_kfold

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::Tensor;
use serde::Serialize;
use serde_json::{json, Value};

use crate::data::{stratified_kfold, Folds};
use crate::decision::predict_all;
use crate::error::{Error, Result};
use crate::metrics::{self, Metrics};
use crate::run_folder::metrics::RunMetrics;
use crate::run_folder::records::{write_history, EpochRecord};

use super::data::Examples;
use super::evaluate::Scored;
use super::frozen::Precomputed;
use super::imbalance::class_counts;
use super::observer::Observer;
use super::oversample::oversample;
use super::predictor::{EnsembleInfo, ENSEMBLE_FILE};
use super::run_writer::{save_model, write_run, RunOutcome};
use super::test_scoring::score_test;
use super::trainer::{
    check_out_dir, fit, prepare_run_dir, write_json, Fitted, Heldout, RunResult, Session,
    HISTORY_FILE, MODEL_DIR,
};
use super::{data::read_texts, TrainConfig};

/// The folder of a cross-validated fine-tune's fold models, in its run folder.
pub use crate::run_folder::FOLDS_DIR;

/// One fold's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoldResult {
    /// 1-based.
    pub fold: usize,
    /// Rows held out.
    pub rows: usize,
    /// The epoch whose weights were kept.
    pub best_epoch: Option<usize>,
    /// Epochs trained.
    pub epochs_run: usize,
    /// Loss of the held-out rows.
    pub val_loss: f64,
    /// Scalar metrics of the held-out rows, under the decision rule of the whole run.
    pub val: Metrics,
}

/// The folds behind a cross-validated run.
pub struct FoldsRun {
    /// Each fold run, in order.
    pub folds: Vec<FoldResult>,
    /// The pooled rows (training split, then validation split) of the folds run, sorted.
    pub rows: Vec<usize>,
    /// What `model/` is (a refit on every row, or the first of the averaged fold models).
    pub model: String,
}

/// A session's training and validation rows as one pool, training rows first.
pub struct Pool {
    /// The examples.
    pub examples: Examples,
    /// Their precomputed inputs, when the session has a cache.
    pub cached: Option<Precomputed>,
    /// Per row, whether it is left out of training (`--drop-flagged`): a flagged row is
    /// still held out and scored in its fold, never trained on.
    pub dropped: Vec<bool>,
}

impl Pool {
    /// The pool of `session`.
    pub fn of(session: &Session) -> Result<Pool> {
        let data = &session.data;
        refuse_augmented(session)?;
        let mut examples = data.train.clone();
        examples.encoded.extend(data.val.encoded.iter().cloned());
        examples.targets.extend(data.val.targets.iter().copied());
        let cached = match &session.cache {
            None => None,
            Some(cache) => Some(match (&cache.train, &cache.val) {
                (Precomputed::Features(a), Precomputed::Features(b)) => {
                    Precomputed::Features(Tensor::cat(&[a, b], 0)?)
                }
                (Precomputed::States(a), Precomputed::States(b)) => {
                    Precomputed::States(a.iter().chain(b).cloned().collect())
                }
                _ => {
                    return Err(Error::Invalid(
                        "the training and validation caches differ in kind".into(),
                    ))
                }
            }),
        };
        let drop: std::collections::HashSet<u64> =
            session.config.drop_lines.iter().copied().collect();
        let dropped = (0..data.train.len())
            .map(|r| data.dropped.get(r).copied().unwrap_or(false))
            // Lines of a separate validation file are not the training file's.
            .chain(
                data.origins
                    .val
                    .iter()
                    .map(|o| session.config.val.is_none() && drop.contains(&o.line)),
            )
            .collect();
        Ok(Pool {
            examples,
            cached,
            dropped,
        })
    }

    /// The classes of the pool's rows (training rows, then validation rows), without
    /// building it: what its folds are drawn from.
    pub fn targets(session: &Session) -> Result<Vec<usize>> {
        refuse_augmented(session)?;
        let data = &session.data;
        Ok(data
            .train
            .targets
            .iter()
            .chain(&data.val.targets)
            .copied()
            .collect())
    }

    /// Rows `rows` of the pool.
    fn select(&self, rows: &[usize]) -> Result<(Examples, Option<Precomputed>)> {
        Ok((
            self.examples.select(rows),
            self.cached.as_ref().map(|c| c.select(rows)).transpose()?,
        ))
    }
}

/// Refuses a session whose training rows include augmented copies: a fold would train on
/// copies of its own held-out rows.
fn refuse_augmented(session: &Session) -> Result<()> {
    let data = &session.data;
    if data.train_rows < data.train.len() {
        return Err(Error::Invalid(
            "--eda-copies cannot be cross-validated (a fold would train on augmented copies of the rows it validates on): train without --auto or --cv-folds, or without --eda-copies".into(),
        ));
    }
    Ok(())
}

/// `goodfit train --cv-folds K` without `--auto`: `config` cross-validated over `k`
/// stratified folds of the training and validation rows (seeded by the split seed), written
/// to `config.out` as [`cross_validate_in_session`] writes it — with the out-of-fold
/// predictions of every row, which `goodfit audit --run` reads. The test file, when given,
/// is scored afterwards by what the run folder predicts with (the refit head, or the fold
/// models' average), as `goodfit eval` would: never by one fold's model. Everything is read
/// and checked before the run folder is touched.
pub fn cross_validate(
    config: &TrainConfig,
    k: usize,
    observer: &dyn Observer,
) -> Result<(RunResult, FoldsRun)> {
    if k < 2 {
        return Err(Error::Invalid(format!(
            "--cv-folds {k} is not cross-validation: give 2 or more folds"
        )));
    }
    // The folds never see the test file: their session is opened without it.
    let without_test = TrainConfig {
        test: None,
        ..config.clone()
    }
    .check()?;
    check_out_dir(&config.out, config.overwrite)?;
    let session = Session::open(&without_test, observer)?;
    if let Some(test) = &config.test {
        // Read now, so that a mistake in the test file does not cost k fine-tunes.
        let (_, dataset) = read_texts(test, &session.config, observer)?;
        dataset.class_indices(&session.data.labels)?;
    }
    let names: Vec<String> = session.data.labels.names();
    let pooled = Pool::targets(&session)?;
    let folds = stratified_kfold(&pooled, &names, k, config.split_seed.unwrap_or(config.seed))?;
    for note in &folds.notes {
        observer.message(note);
    }
    // config.toml says what trains (the default remedy may have set the loss) and which
    // test file the run was scored on.
    let settings = TrainConfig {
        test: config.test.clone(),
        ..session.config.get().clone()
    };
    prepare_run_dir(&config.out, &settings, false)?;
    observer.message(&format!(
        "{k}-fold cross-validation over {} rows: each fold held out once, the others trained on",
        pooled.len()
    ));
    let (mut run, folds_run) =
        cross_validate_in_session(&session, &folds, &config.out, &mut |_, _| true, observer)?;
    if let Some(test) = &config.test {
        let scored = score_test(&config.out, test, &settings, observer)?;
        scored.write(&config.out)?;
        run.test = Some((scored.score.loss, scored.score.metrics));
    }
    Ok((run, folds_run))
}

/// Cross-validates `session.config` over `folds` of the session's [`Pool`] and writes the
/// run folder `out` (prepared by the caller); returns what the run folder reports
/// (out-of-fold scores, verdicts on the averaged curves) and the folds behind it. Folds run in order; before each one after the
/// first, `more(folds_done, seconds_so_far)` says whether to go on (a fine-tune within a
/// search runs as many folds as its share of the time allows).
pub fn cross_validate_in_session(
    session: &Session,
    folds: &Folds,
    out: &Path,
    more: &mut dyn FnMut(usize, f64) -> bool,
    observer: &dyn Observer,
) -> Result<(RunResult, FoldsRun)> {
    let start = Instant::now();
    let config = &session.config;
    let labels = &session.data.labels;
    let pool = Pool::of(session)?;
    let head_only = matches!(pool.cached, Some(Precomputed::Features(_)));
    let mut oof: Vec<Option<Vec<f64>>> = vec![None; pool.examples.len()];
    let mut fitted_folds: Vec<(usize, Fitted)> = Vec::new();
    let mut histories = Vec::new();
    for (f, held) in folds.folds.iter().enumerate() {
        if f > 0 && !more(f, start.elapsed().as_secs_f64()) {
            break;
        }
        if !observer.keep_going() {
            return Err(Error::Interrupted {
                epochs_done: 0,
                out: out.to_path_buf(),
            });
        }
        let (fitted, train) = fit_fold(session, &pool, folds, f, observer)?;
        for (&row, p) in held.iter().zip(&fitted.val.proba) {
            oof[row] = Some(p.clone());
        }
        histories.push(fitted.state.history.clone());
        if !head_only {
            save_fold_model(session, out, f, &fitted, &train.targets)?;
        }
        fitted_folds.push((f, fitted));
    }
    let run_folds: Vec<usize> = fitted_folds.iter().map(|(f, _)| *f).collect();
    let mut rows: Vec<usize> = run_folds
        .iter()
        .flat_map(|&f| folds.folds[f].iter().copied())
        .collect();
    rows.sort_unstable();
    let targets: Vec<usize> = rows.iter().map(|&r| pool.examples.targets[r]).collect();
    let proba: Vec<Vec<f64>> = rows
        .iter()
        .map(|&r| oof[r].clone().expect("every held-out row predicted"))
        .collect();
    let val = scored(&targets, proba, labels)?;
    let history = average_histories(&histories);
    let mut best_epochs: Vec<usize> = fitted_folds
        .iter()
        .map(|(_, f)| {
            f.state
                .early_stopping
                .best_epoch
                .unwrap_or(f.state.epochs_done)
        })
        .collect();
    best_epochs.sort_unstable();
    let median_epoch = best_epochs[best_epochs.len() / 2].max(1);
    let (refit, model_doc) = if head_only {
        let all_rows: Vec<usize> = (0..pool.examples.len()).collect();
        let (all, all_cached) = oversampled(session, pool.select(&all_rows)?)?;
        let refit = fit(
            session,
            &all,
            all_cached.as_ref(),
            Heldout {
                examples: &all,
                cached: all_cached.as_ref(),
            },
            Some(median_epoch),
            None,
            observer,
        )?;
        let doc = format!(
            "the head trained again on all {} pooled rows for {median_epoch} epochs, the median of the folds' best epochs",
            pool.examples.len()
        );
        (Some(refit), doc)
    } else {
        let doc = if run_folds.len() > 1 {
            format!(
                "the average of the {} fold models (ensemble.json); model/ is fold 1's",
                run_folds.len()
            )
        } else {
            "the model of fold 1, trained on the other folds".to_string()
        };
        (None, doc)
    };
    let kept = match &refit {
        Some(refit) => refit,
        None => &fitted_folds[0].1,
    };
    let epochs_run = history.len();
    let val_inputs: Vec<crate::model::Example> = rows
        .iter()
        .map(|&r| pool.examples.encoded[r].clone())
        .collect();
    let section = json!({
        "k": folds.folds.len(),
        "folds_run": run_folds.iter().map(|f| f + 1).collect::<Vec<_>>(),
        "rows": rows.len(),
        "pooled_rows": pool.examples.len(),
        "best_epochs": best_epochs,
        "model": model_doc.clone(),
    });
    write_history(&out.join(HISTORY_FILE), &history)?;
    let (mut run, rule) = write_run(
        session,
        out,
        &RunOutcome {
            classifier: &kept.classifier,
            params: &kept.params,
            start_weights: &kept.start_weights,
            history: &history,
            best_epoch: Some(median_epoch),
            epochs_run,
            stopped_early: epochs_run < config.epochs,
            seconds: start.elapsed().as_secs_f64(),
            train_targets: &pool.examples.targets,
            val: &val,
            val_targets: &targets,
            val_inputs: &val_inputs,
            cross_validation: Some(section),
        },
        observer,
    )?;
    // The rule tuned on the out-of-fold predictions serves the per-fold scores and the
    // fold models' ensemble.
    let mut results = Vec::new();
    for (f, fitted) in &fitted_folds {
        let held = &folds.folds[*f];
        let fold_targets: Vec<usize> = held.iter().map(|&r| pool.examples.targets[r]).collect();
        let fold_proba = &fitted.val.proba;
        let metrics = metrics::compute(
            &fold_targets,
            &predict_all(fold_proba, rule.as_ref()),
            Some(fold_proba),
            labels,
        )?;
        results.push(FoldResult {
            fold: f + 1,
            rows: held.len(),
            best_epoch: fitted.state.early_stopping.best_epoch,
            epochs_run: fitted.state.epochs_done,
            val_loss: fitted.val.loss,
            val: metrics,
        });
    }
    if !head_only && run_folds.len() > 1 {
        let spec = EnsembleInfo {
            members: run_folds.iter().map(|&f| fold_model_dir(f)).collect(),
            decision: rule,
            weights: None,
        };
        write_json(&out.join(ENSEMBLE_FILE), &spec)?;
    }
    add_fold_results(out, &results)?;
    run.seconds = start.elapsed().as_secs_f64();
    Ok((
        run,
        FoldsRun {
            folds: results,
            rows,
            model: model_doc,
        },
    ))
}

/// Fold `f` of `folds` over `pool`: the configuration trained on the other folds, early
/// stopping on this one; with the training examples it saw.
fn fit_fold(
    session: &Session,
    pool: &Pool,
    folds: &Folds,
    f: usize,
    observer: &dyn Observer,
) -> Result<(Fitted, Examples)> {
    let rows: Vec<usize> = folds
        .train_rows(f)
        .into_iter()
        .filter(|&r| !pool.dropped.get(r).copied().unwrap_or(false))
        .collect();
    let (train, train_cached) = oversampled(session, pool.select(&rows)?)?;
    let (val, val_cached) = pool.select(&folds.folds[f])?;
    let fitted = fit(
        session,
        &train,
        train_cached.as_ref(),
        Heldout {
            examples: &val,
            cached: val_cached.as_ref(),
        },
        None,
        None,
        observer,
    )?;
    Ok((fitted, train))
}

/// Out-of-fold predicted probabilities of every row of the session's [`Pool`] (training
/// split, then validation split), as scikit-learn's `cross_val_predict(method=
/// "predict_proba")`: each fold's rows predicted by the configuration trained on the
/// others. Writes nothing.
pub fn out_of_fold_proba(
    session: &Session,
    folds: &Folds,
    observer: &dyn Observer,
) -> Result<Vec<Vec<f64>>> {
    let pool = Pool::of(session)?;
    let mut oof: Vec<Option<Vec<f64>>> = vec![None; pool.examples.len()];
    for f in 0..folds.folds.len() {
        if !observer.keep_going() {
            return Err(Error::Interrupted {
                epochs_done: 0,
                out: session.config.out.clone(),
            });
        }
        let (fitted, _) = fit_fold(session, &pool, folds, f, observer)?;
        for (&row, p) in folds.folds[f].iter().zip(&fitted.val.proba) {
            oof[row] = Some(p.clone());
        }
    }
    oof.into_iter()
        .enumerate()
        .map(|(row, p)| p.ok_or_else(|| Error::Invalid(format!("pooled row {row} is in no fold"))))
        .collect()
}

/// `examples` with synthetic minority rows added to their cached features when the
/// configuration oversamples (head-only training), else as they are.
fn oversampled(
    session: &Session,
    (examples, cached): (Examples, Option<Precomputed>),
) -> Result<(Examples, Option<Precomputed>)> {
    let config = &session.config;
    match (config.oversample, &cached) {
        (Some(how), Some(Precomputed::Features(features))) => {
            let (examples, features) =
                oversample(features, &examples, &session.data.labels, how, config.seed)?;
            Ok((examples, Some(Precomputed::Features(features))))
        }
        _ => Ok((examples, cached)),
    }
}

/// A fold model's folder, relative to the run folder.
pub fn fold_model_dir(fold: usize) -> PathBuf {
    Path::new(FOLDS_DIR)
        .join((fold + 1).to_string())
        .join(MODEL_DIR)
}

/// Saves fold `f`'s classifier under `out/folds/N/model` (argmax; the run's rule is set in
/// `ensemble.json`).
fn save_fold_model(
    session: &Session,
    out: &Path,
    f: usize,
    fitted: &Fitted,
    train_targets: &[usize],
) -> Result<()> {
    let counts = class_counts(train_targets, session.data.labels.len());
    save_model(
        session,
        &out.join(fold_model_dir(f)),
        (&fitted.params, &fitted.classifier),
        &counts,
        None,
    )
}

/// Loss, metrics (argmax) and the probabilities themselves.
fn scored(
    targets: &[usize],
    proba: Vec<Vec<f64>>,
    labels: &crate::data::LabelMap,
) -> Result<Scored> {
    let metrics = metrics::compute(targets, &predict_all(&proba, None), Some(&proba), labels)?;
    // The metric suite computes the log-loss from the probabilities already.
    let loss = metrics.get("log_loss").unwrap_or(f64::NAN);
    Ok(Scored {
        loss,
        metrics,
        proba,
    })
}

/// The folds' epoch records averaged epoch by epoch: numbers are the mean over the folds
/// that reached the epoch (`folds` says how many), anything else is the first fold's.
pub fn average_histories(histories: &[Vec<EpochRecord>]) -> Vec<EpochRecord> {
    let epochs = histories.iter().map(Vec::len).max().unwrap_or(0);
    (0..epochs)
        .map(|e| {
            let records: Vec<&EpochRecord> = histories.iter().filter_map(|h| h.get(e)).collect();
            EpochRecord::average(&records, e + 1)
        })
        .collect()
}

/// Adds every fold's result to `metrics.json`'s `cross_validation` section.
fn add_fold_results(out: &Path, results: &[FoldResult]) -> Result<()> {
    let per_fold = serde_json::to_value(results).map_err(Error::serialization)?;
    RunMetrics::update(&out.join(super::trainer::METRICS_FILE), |metrics| {
        if let Some(Value::Object(section)) = &mut metrics.cross_validation {
            section.insert("per_fold".into(), per_fold);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_are_averaged_over_the_folds_that_reached_each_epoch() {
        let record = |epoch: usize, loss: f64| EpochRecord {
            epoch,
            val_loss: Some(loss),
            metrics: [("val_f1_macro".to_string(), None)].into(),
            ..EpochRecord::default()
        };
        let a = vec![record(1, 1.0), record(2, 0.5), record(3, 0.4)];
        let b = vec![record(1, 0.6), record(2, 0.3)];
        let avg = average_histories(&[a, b]);
        assert_eq!(avg.len(), 3);
        assert_eq!(avg[0].val_loss, Some(0.8));
        assert_eq!(avg[1].folds, Some(2));
        assert_eq!(avg[2].val_loss, Some(0.4));
        assert_eq!(avg[2].folds, Some(1));
        assert_eq!(avg[2].get("val_f1_macro"), None);
    }
}
