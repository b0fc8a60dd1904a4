//! The training loop: epochs of mini-batch AdamW steps, evaluation after each epoch, early
//! stopping, checkpoints, and at the end the best epoch's weights saved as a model folder.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use candle_core::{Tensor, Var};

use crate::error::{Error, Result};
use crate::io::write_atomic;
use crate::metrics::{Metrics, SCALAR_METRICS};
use crate::model::weight_stats::update_ratios;
use crate::model::{Classifier, Example, Mode, Params};
use crate::run_folder::records::{self, EpochRecord, FORMAT};

use super::batching::training_epoch;
use super::checkpoint::{self, LoopState};
use super::config::{monitor_direction, TrainConfig};
use super::data::{fixed_sample, Examples, Prepared};
use super::early_stopping::{EarlyStopping, Outcome};
use super::evaluate::Scored;
pub(crate) use super::evaluate::Scorer;
use super::frozen::{pooled_rows, Precomputed};
use super::imbalance::class_counts;
pub use super::imbalance::IMBALANCE_WARNING;
use super::loss::{classification_loss, l1_penalty, symmetric_kl, LossSpec};
use super::mixup::{mixed_picture_features, Mix};
use super::observer::Observer;
use super::optimizer::{clip_coefficient, grad_norm, AdamW, AdamWConfig};
use super::oversample::{describe as describe_oversampling, oversample};
use super::param_groups::{param_groups, still_in_epoch};
pub use super::records::RunResult;
pub(crate) use super::records::{write_json, write_json_lines, write_predictions};
use super::run_writer::{write_run, RunOutcome};
use super::schedule::LrSchedule;
pub use super::session::{Heldout, Session};
use super::swa::{average_into, refresh_buffers};

/// The run folder's files (named in [`crate::run_folder`]).
pub use crate::run_folder::{
    check_out_dir, CHECKPOINT_FILE, CONFIG_FILE, DATA_FILE, HISTORY_FILE, METRICS_FILE, MODEL_DIR,
    TEST_PREDICTIONS_FILE, VAL_PREDICTIONS_FILE, WEIGHTS_FILE,
};

/// Trains a classifier as `config` says and writes the run folder `config.out`.
///
/// With `resume`, continues from the folder's checkpoint; the result equals an uninterrupted
/// run with the same seed.
pub fn train(config: &TrainConfig, resume: bool, observer: &dyn Observer) -> Result<RunResult> {
    let checked = config.check()?;
    if !resume {
        check_out_dir(&config.out, config.overwrite)?;
    }
    // Everything is read and checked before the run folder is touched: a typo in a path
    // must not cost the run already there.
    let session = Session::open(&checked, observer)?;
    prepare_run_dir(&config.out, config, resume)?;
    if !resume && session.config.loss != config.loss {
        // The default remedy changed the loss: config.toml says what trains (and what a
        // resumed run reads).
        write_atomic(
            &config.out.join(CONFIG_FILE),
            session.config.to_toml()?.as_bytes(),
        )?;
    }
    train_in_session(&session, &config.out, resume, observer)
}

/// Trains, scores and saves a classifier with `session.config` into the run folder `out`,
/// which [`prepare_run_dir`] has prepared: everything [`train`] does after opening the
/// session. Settings that [`Session::open`] does not read (learning rates, regularisation,
/// epochs, the loss and the other imbalance remedies, the head) may change between calls,
/// so one session serves many runs (`goodfit train --auto`).
pub fn train_in_session(
    session: &Session,
    out: &Path,
    resume: bool,
    observer: &dyn Observer,
) -> Result<RunResult> {
    let out = out.to_path_buf();
    let data = &session.data;
    observer.message(&format!(
        "{} training and {} validation examples, {} classes",
        data.train.len(),
        data.val.len(),
        data.labels.len()
    ));
    warn_unremedied_imbalance(&session.config, data, observer);
    // `--drop-flagged`: the rows the audit flags stay in the session, out of the fit.
    let kept = match data.kept_train_rows() {
        Some(rows) => Some((
            data.train.select(&rows),
            session
                .cache
                .as_ref()
                .map(|c| c.train.select(&rows))
                .transpose()?,
        )),
        None => None,
    };
    let (base_train, base_cache) = match &kept {
        Some((examples, cached)) => (examples, cached.as_ref()),
        None => (&data.train, session.cache.as_ref().map(|c| &c.train)),
    };
    let train_targets = match &kept {
        Some((examples, _)) => &examples.targets[..],
        None => &data.train.targets[..data.train_rows],
    };
    let oversampled = match (session.config.oversample, base_cache) {
        (Some(how), Some(Precomputed::Features(train_features))) => {
            let (examples, features) = oversample(
                train_features,
                base_train,
                &data.labels,
                how,
                session.config.seed,
            )?;
            let counts = class_counts(&data.train.targets, data.labels.len());
            observer.message(&describe_oversampling(&counts, &examples, &data.labels));
            Some((examples, Precomputed::Features(features)))
        }
        _ => None,
    };
    let (train_examples, train_features) = match &oversampled {
        Some((examples, features)) => (examples, Some(features)),
        None => (base_train, base_cache),
    };
    let fitted = fit(
        session,
        train_examples,
        train_features,
        session.heldout(),
        None,
        Some((&out, resume)),
        observer,
    )?;
    let (result, _) = write_run(
        session,
        &out,
        &RunOutcome {
            classifier: &fitted.classifier,
            params: &fitted.params,
            start_weights: &fitted.start_weights,
            history: &fitted.state.history,
            best_epoch: fitted.state.early_stopping.best_epoch,
            epochs_run: fitted.state.epochs_done,
            stopped_early: fitted.state.stopped_early,
            seconds: fitted.state.seconds,
            train_targets,
            val: &fitted.val,
            val_targets: &data.val.targets,
            val_inputs: &data.val.encoded,
            cross_validation: None,
        },
        observer,
    )?;
    Ok(result)
}

/// A finished fit: the classifier with the best epoch's weights restored.
pub struct Fitted {
    /// The classifier.
    pub classifier: Classifier,
    /// Its weights.
    pub params: Params,
    /// The weights training started from (θ₀ for drift).
    pub start_weights: BTreeMap<String, Tensor>,
    /// The loop's final state, history included.
    pub state: LoopState,
    /// Validation loss, metrics and probabilities of the kept weights.
    pub val: Scored,
}

/// Trains a fresh classifier on `train` (with `cached` features when the encoder is frozen)
/// and scores `val` each epoch, stopping early on it and restoring its best epoch. With
/// `stop_after`, training ends after that many epochs (the schedule still spans
/// `config.epochs`, so the first epochs match a full run's) and keeps the last weights,
/// whatever `val` says: a refit on every row, whose epochs cross-validation chose. With
/// `run`, history and a checkpoint are written to that folder each epoch, and `(run, true)`
/// resumes from it.
pub fn fit(
    session: &Session,
    train: &Examples,
    cached: Option<&Precomputed>,
    val: Heldout<'_>,
    stop_after: Option<usize>,
    run: Option<(&Path, bool)>,
    observer: &dyn Observer,
) -> Result<Fitted> {
    let config = &session.config;
    let data = &session.data;
    let device = &session.device;
    let (classifier, params) = session.build()?;
    let vars: BTreeMap<String, Var> = params.vars().clone();
    let places = classifier.places(vars.keys());
    let mut optimizer = AdamW::new(param_groups(&vars, &places, config), AdamWConfig::default())?;
    let decayed: Vec<Tensor> = vars
        .iter()
        .filter(|(n, _)| places[*n].decays)
        .map(|(_, v)| v.as_tensor().clone())
        .collect();

    let loss_spec = LossSpec::of(config, &class_counts(&train.targets, data.labels.len()));
    let batches_per_epoch = train.len().div_ceil(config.batch_size);
    let steps_per_epoch = batches_per_epoch.div_ceil(config.grad_accum);
    let schedule = LrSchedule::new(
        config.schedule,
        config.warmup,
        steps_per_epoch * config.epochs,
    );
    let collator = session.collator();
    let train_sample = fixed_sample(train.len(), config.train_eval_size, config.seed);
    let mut state = LoopState {
        epochs_done: 0,
        global_step: 0,
        early_stopping: EarlyStopping::new(
            monitor_direction(&config.monitor)?,
            config.patience,
            config.min_delta,
        ),
        stopped_early: false,
        history: Vec::new(),
        seconds: 0.0,
        swa_count: 0,
    };
    let mut best: BTreeMap<String, Tensor> = snapshot(&vars)?;
    // The backbone's buffers (BatchNorm's running statistics) go with the weights they were
    // computed with: kept with the best epoch, saved in checkpoints, restored with both.
    let buffers = |classifier: &Classifier| -> Result<BTreeMap<String, Tensor>> {
        classifier
            .backbone()
            .buffers()?
            .into_iter()
            .map(|(n, t)| Ok((n, t.copy()?)))
            .collect()
    };
    let mut best_buffers = buffers(&classifier)?;
    // θ₀ for weight drift: the pretrained (and freshly initialised) weights, taken before a
    // resumed run loads its checkpoint.
    let mut start_weights = params.tensors();
    start_weights.extend(best.iter().map(|(n, t)| (n.clone(), t.clone())));
    let mut averaged: BTreeMap<String, Tensor> = BTreeMap::new();
    if let Some((out, true)) = run {
        let saved = checkpoint::load(&out.join(CHECKPOINT_FILE), device)?;
        for (name, var) in &vars {
            let tensor = saved.params.get(name).ok_or_else(|| {
                Error::Invalid(format!(
                    "the checkpoint has no weight '{name}': was it made with other settings?"
                ))
            })?;
            var.set(tensor)?;
            if let Some(b) = saved.best.get(name) {
                best.insert(name.clone(), b.copy()?);
            }
            if let Some(a) = saved.averaged.get(name) {
                averaged.insert(name.clone(), a.copy()?);
            }
        }
        let current: BTreeMap<String, Tensor> = saved.params.into_iter().collect();
        classifier.backbone().set_buffers(&current)?;
        best_buffers = saved
            .best
            .into_iter()
            .filter(|(n, _)| best_buffers.contains_key(n))
            .collect();
        optimizer.load_state(&saved.optimizer)?;
        state = saved.state;
        observer.message(&format!("resuming after epoch {}", state.epochs_done));
    }
    let mut previous = snapshot(&vars)?;
    let scorer = Scorer::new(session, observer);
    let last_epoch = stop_after.map_or(config.epochs, |e| e.clamp(1, config.epochs));
    let lengths: Vec<usize> = train.encoded.iter().map(Example::size).collect();
    // Augmented training pictures differ every epoch: what the frozen layers make of them
    // cannot be kept, so training batches run the whole backbone (validation still reads
    // the cache).
    let augment = config.image_augment();
    // Pictures mixed by mixup or CutMix are new pictures too.
    let pixel_mixing = config.pixel_mixing();
    let side = match &session.folder.config {
        crate::model::ModelConfig::Image(image) if pixel_mixing.is_on() => Some(image.image_size),
        _ => None,
    };
    let train_cached = if augment.is_on() || side.is_some() {
        None
    } else {
        cached
    };

    while state.epochs_done < last_epoch && !state.stopped_early {
        let epoch = state.epochs_done + 1;
        let epoch_start = Instant::now();
        let features = matches!(cached, Some(Precomputed::Features(_)));
        let grouping = (config.group_by_length && !features).then_some(lengths.as_slice());
        let (batches, mut mode) =
            training_epoch(config, &train.targets, data.labels.len(), epoch, grouping)?;
        observer.epoch_start(epoch, config.epochs, batches.len());
        // Gradual unfreezing: the weights that stay still this epoch, found once per epoch.
        let still = if config.gradual_unfreeze {
            still_in_epoch(&vars, &places, epoch)
        } else {
            Vec::new()
        };
        let mut loss_sum = 0.0;
        let mut penalty_sum = 0.0;
        let mut accumulated: Option<candle_core::backprop::GradStore> = None;
        let epoch_collator = collator.augmented(
            augment,
            config.seed ^ (epoch as u64).wrapping_mul(0xA076_1D64_78BD_642F),
        );
        for (index, rows) in batches.iter().enumerate() {
            let targets: Vec<usize> = rows.iter().map(|&r| train.targets[r]).collect();
            let mix = match side {
                Some(side) => {
                    Some(pixel_mixing.draw(rows.len(), (side, side), config.seed, epoch, index)?)
                }
                None => (config.mixup > 0.0)
                    .then(|| Mix::draw(config.mixup, rows.len(), config.seed, epoch, index))
                    .transpose()?,
            };
            let forward = |mode: &mut Mode| {
                let pooled = match (&mix, side) {
                    (Some(mix), Some(_)) => mixed_picture_features(
                        &classifier,
                        &train.encoded,
                        rows,
                        mode,
                        &epoch_collator,
                        mix,
                    )?,
                    (mix, _) => {
                        let pooled = pooled_rows(
                            &classifier,
                            &train.encoded,
                            rows,
                            train_cached,
                            mode,
                            &epoch_collator,
                        )?;
                        match mix {
                            Some(mix) => mix.apply(&pooled)?,
                            None => pooled,
                        }
                    }
                };
                classifier.classify(&pooled, mode)
            };
            let batch_loss = |logits: &Tensor| match &mix {
                Some(mix) => mix.loss(logits, &targets, &loss_spec),
                None => classification_loss(logits, &targets, &loss_spec),
            };
            let logits = forward(&mut mode)?;
            let mut data_loss = batch_loss(&logits)?;
            let mut consistency = None;
            if config.rdrop > 0.0 {
                // R-Drop: the same batch again; the dropout masks differ as `mode`'s
                // generator has moved on.
                let again = forward(&mut mode)?;
                let second = batch_loss(&again)?;
                data_loss = ((data_loss + second)? * 0.5)?;
                consistency = Some((symmetric_kl(&logits, &again)? * config.rdrop)?);
            }
            let mut objective = match consistency {
                Some(term) => (&data_loss + term)?,
                None => data_loss.clone(),
            };
            if config.l1 > 0.0 {
                if let Some(penalty) = l1_penalty(&decayed, config.l1)? {
                    penalty_sum += penalty.to_scalar::<f32>()? as f64;
                    objective = (objective + penalty)?;
                }
            }
            let objective = (objective * (1.0 / config.grad_accum as f64))?;
            let grads = objective.backward()?;
            let loss = data_loss.to_scalar::<f32>()? as f64;
            if !loss.is_finite() {
                return Err(Error::Diverged(format!(
                    "training diverged at epoch {epoch}, batch {}: the loss is {loss}; lower --lr",
                    index + 1
                )));
            }
            loss_sum += loss;
            observer.batch_end(loss);
            super::optimizer::accumulate(&mut accumulated, &grads, vars.values())?;
            drop(grads);
            if (index + 1) % config.grad_accum == 0 || index + 1 == batches.len() {
                let mut grads = accumulated.take().unwrap_or_default();
                // Without a gradient a weight is not stepped, its moments untouched.
                for var in &still {
                    grads.remove(var.as_tensor());
                }
                let norm = grad_norm(&grads, vars.values())?;
                if !norm.is_finite() {
                    return Err(Error::Diverged(format!(
                        "training diverged at epoch {epoch}: the gradient norm is {norm}; lower --lr"
                    )));
                }
                let scale = if config.grad_clip > 0.0 {
                    clip_coefficient(norm, config.grad_clip)?
                } else {
                    1.0
                };
                optimizer.step_with_grad_scale(
                    &grads,
                    schedule.factor(state.global_step),
                    scale,
                )?;
                state.global_step += 1;
            }
            if observer.stop_now() {
                return Err(Error::Interrupted {
                    epochs_done: state.epochs_done,
                    out: run.map(|(out, _)| out.to_path_buf()).unwrap_or_default(),
                });
            }
        }

        let n_batches = batches.len().max(1) as f64;
        let squares: f64 = decayed
            .iter()
            .map(|t| t.sqr()?.sum_all()?.to_scalar::<f32>())
            .sum::<candle_core::Result<f32>>()? as f64;
        let current = snapshot(&vars)?;
        let mut record = EpochRecord {
            format: FORMAT,
            epoch,
            step: state.global_step,
            lr: Some(config.lr * schedule.factor(state.global_step.saturating_sub(1))),
            train_loss: Some(loss_sum / n_batches),
            penalty: Some(penalty_sum / n_batches),
            l2_term: Some(0.5 * config.weight_decay * squares),
            update_ratio: update_ratios(&current, &previous, &places)?
                .into_iter()
                .map(|(name, ratio)| (name, Some(ratio)))
                .collect(),
            ..EpochRecord::default()
        };
        let val_scored = scorer.score(&classifier, val.examples, val.cached, None, "validation")?;
        let train_metrics = scorer
            .score(
                &classifier,
                train,
                cached,
                Some(&train_sample),
                "training sample",
            )?
            .metrics;
        record.val_loss = Some(val_scored.loss);
        insert_metrics(&mut record, "train", &train_metrics);
        insert_metrics(&mut record, "val", &val_scored.metrics);
        let seconds = epoch_start.elapsed().as_secs_f64();
        record.seconds = seconds;

        let monitored = if config.monitor == "val_loss" {
            Some(val_scored.loss)
        } else {
            val_scored.metrics.get(&config.monitor["val_".len()..])
        };
        if config.swa_epochs > 0 && epoch + config.swa_epochs > config.epochs {
            state.swa_count += 1;
            average_into(&mut averaged, &current, state.swa_count)?;
        }
        let current_buffers = buffers(&classifier)?;
        match state.early_stopping.update(epoch, monitored) {
            Outcome::Improved => {
                best = current.clone();
                best_buffers = current_buffers.clone();
            }
            Outcome::NotImproved => {}
            Outcome::Stop => state.stopped_early = stop_after.is_none(),
        }
        state.epochs_done = epoch;
        state.seconds += seconds;
        state.history.push(record.clone());
        observer.epoch_end(&record);
        if let Some((out, _)) = run {
            write_history(out, &state.history)?;
            let with = |weights: &BTreeMap<String, Tensor>, b: &BTreeMap<String, Tensor>| {
                let mut all = weights.clone();
                all.extend(b.iter().map(|(n, t)| (n.clone(), t.clone())));
                all
            };
            checkpoint::save(
                &out.join(CHECKPOINT_FILE),
                &state,
                &with(&current, &current_buffers),
                &with(&best, &best_buffers),
                &averaged,
                &optimizer.state()?,
            )?;
            if !observer.keep_going() && state.epochs_done < last_epoch && !state.stopped_early {
                return Err(Error::Interrupted {
                    epochs_done: state.epochs_done,
                    out: out.to_path_buf(),
                });
            }
        }
        previous = current;
    }
    if state.stopped_early {
        observer.message(&format!(
            "stopped early after epoch {}: {} did not improve for {} epochs",
            state.epochs_done, config.monitor, config.patience
        ));
    }
    // Restore the best epoch's weights, as Trainer's load_best_model_at_end does (a refit
    // for a fixed number of epochs keeps its last ones), or the average of the last epochs'.
    if state.swa_count > 0 {
        let last = state.epochs_done;
        observer.message(&format!(
            "keeping the average of the weights of epochs {}–{last} (--swa-epochs)",
            last + 1 - state.swa_count
        ));
        for (name, var) in &vars {
            var.set(&averaged[name])?;
        }
        refresh_buffers(&classifier, &train.encoded, config, &collator, observer)?;
    } else if stop_after.is_none() {
        if config.swa_epochs > 0 {
            observer.message(&format!(
                "no weights to average: training stopped before epoch {} (--swa-epochs); keeping the best epoch's",
                config.epochs + 1 - config.swa_epochs
            ));
        }
        for (name, var) in &vars {
            var.set(&best[name])?;
        }
        classifier.backbone().set_buffers(&best_buffers)?;
    }
    let val = scorer.score(&classifier, val.examples, val.cached, None, "validation")?;
    Ok(Fitted {
        classifier,
        params,
        start_weights,
        state,
        val,
    })
}

/// Copies of the current values of `vars`.
fn snapshot(vars: &BTreeMap<String, Var>) -> Result<BTreeMap<String, Tensor>> {
    vars.iter()
        .map(|(n, v)| Ok((n.clone(), v.as_tensor().copy()?)))
        .collect()
}

/// Adds every scalar metric as `<prefix>_<name>` (undefined ones as null).
fn insert_metrics(record: &mut EpochRecord, prefix: &str, metrics: &Metrics) {
    for name in SCALAR_METRICS {
        record
            .metrics
            .insert(format!("{prefix}_{name}"), metrics.get(name));
    }
}

/// Creates the run folder. A fresh run removes a previous run's outputs first, so that a
/// failed run never leaves an old `model/` looking like its result; `config.toml` is written
/// at once. A resumed run needs the checkpoint.
pub fn prepare_run_dir(out: &Path, config: &TrainConfig, resume: bool) -> Result<()> {
    if resume {
        if !out.join(CHECKPOINT_FILE).is_file() {
            return Err(Error::Invalid(format!(
                "nothing to resume: {} has no {CHECKPOINT_FILE}",
                out.display()
            )));
        }
        return Ok(());
    }
    crate::run_folder::clear_outputs(out)?;
    write_atomic(&out.join(CONFIG_FILE), config.to_toml()?.as_bytes())
}

fn write_history(out: &Path, history: &[EpochRecord]) -> Result<()> {
    records::write_history(&out.join(HISTORY_FILE), history)
}

/// Says so when the training data is clearly imbalanced and no remedy was asked for.
fn warn_unremedied_imbalance(config: &TrainConfig, data: &Prepared, observer: &dyn Observer) {
    let counts = class_counts(&data.train.targets, data.labels.len());
    let ratio = *counts.iter().max().unwrap_or(&0) as f64
        / (*counts.iter().min().unwrap_or(&0)).max(1) as f64;
    if ratio > IMBALANCE_WARNING && !config.imbalance_remedied() {
        observer.message(&format!(
            "the training classes are imbalanced ({ratio:.1} : 1) and no remedy is set: consider --class-weight balanced, --sampler balanced, --loss focal or --tune-threshold f1"
        ));
    }
}
