//! The training loop: epochs of mini-batch AdamW steps, evaluation after each epoch, early
//! stopping, checkpoints, and at the end the best epoch's weights saved as a model folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::{Device, Tensor, Var};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::io::write_atomic;
use crate::metrics::{Metrics, SCALAR_METRICS};
use crate::model::{
    load_tokenizer, resolve_model, save_classifier, Classifier, ClassifierInfo, ClassifierSpec,
    Mode, ModelFolder, Params,
};

use super::batching::{epoch_batches, make_batch};
use super::checkpoint::{self, LoopState};
use super::config::{monitor_direction, TrainConfig};
use super::data::{fixed_sample, prepare, Examples};
use super::early_stopping::{EarlyStopping, Outcome};
use super::evaluate::{predict_logits, score};
use super::loss::{cross_entropy, l1_penalty};
use super::observer::Observer;
use super::optimizer::{
    clip_coefficient, grad_norm, hf_weight_decay_applies, AdamW, AdamWConfig, ParamGroup,
};
use super::schedule::LrSchedule;

/// Files of a run folder.
pub const CONFIG_FILE: &str = "config.toml";
/// One JSON line per epoch.
pub const HISTORY_FILE: &str = "history.jsonl";
/// Final metrics.
pub const METRICS_FILE: &str = "metrics.json";
/// The latest checkpoint.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
/// The saved classifier folder.
pub const MODEL_DIR: &str = "model";

/// What a finished run reports.
pub struct RunResult {
    /// The run folder.
    pub out: PathBuf,
    /// The epoch whose weights were kept (1-based).
    pub best_epoch: Option<usize>,
    /// Epochs trained.
    pub epochs_run: usize,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// Validation loss of the kept weights.
    pub val_loss: f64,
    /// Validation metrics of the kept weights.
    pub val: Metrics,
    /// Test loss and metrics, when a test file was given.
    pub test: Option<(f64, Metrics)>,
    /// Wall-clock seconds of training and evaluation.
    pub seconds: f64,
}

/// Trains a classifier as `config` says and writes the run folder `config.out`.
///
/// With `resume`, continues from the folder's checkpoint; the result equals an uninterrupted
/// run with the same seed.
pub fn train(config: &TrainConfig, resume: bool, observer: &dyn Observer) -> Result<RunResult> {
    config.validate()?;
    let out = config.out.clone();
    prepare_run_dir(&out, config, resume)?;

    let model_dir = resolve_model(&config.model)?;
    let folder = ModelFolder::open(&model_dir)?;
    let tokenizer = load_tokenizer(&model_dir)?;
    let positions = folder.config.max_position_embeddings
        - folder
            .architecture
            .position_offset(folder.config.pad_token_id);
    let mut config = config.clone();
    if config.max_len > positions {
        observer.message(&format!(
            "--max-len {} is more than the model's {positions} positions: using {positions}",
            config.max_len
        ));
        config.max_len = positions;
    }
    let config = &config;
    let data = prepare(config, &tokenizer, observer)?;
    observer.message(&format!(
        "{} training and {} validation examples, {} classes",
        data.train.len(),
        data.val.len(),
        data.labels.len()
    ));

    let device = Device::Cpu;
    let mut params = Params::load(
        &folder.weights,
        folder.architecture.weight_prefix(),
        &device,
        config.seed,
    )?;
    let spec = ClassifierSpec {
        pooling: config.pooling,
        head_hidden: config.head_hidden,
        dropout: config.dropout,
        train_layers: config.train_layers,
        classes: data.labels.len(),
    };
    let classifier = Classifier::build(&mut params, &folder.config, folder.architecture, &spec)?;
    let vars: BTreeMap<String, Var> = params.vars().clone();
    let mut optimizer = AdamW::new(param_groups(&vars, config), AdamWConfig::default())?;
    let l1_weights: Vec<Tensor> = vars
        .iter()
        .filter(|(n, _)| hf_weight_decay_applies(n))
        .map(|(_, v)| v.as_tensor().clone())
        .collect();

    let batches_per_epoch = data.train.len().div_ceil(config.batch_size);
    let steps_per_epoch = batches_per_epoch.div_ceil(config.grad_accum);
    let total_steps = steps_per_epoch * config.epochs;
    let schedule = LrSchedule::new(config.schedule, config.warmup, total_steps);
    let pad_id = folder.config.pad_token_id as u32;
    let train_sample = fixed_sample(data.train.len(), config.train_eval_size, config.seed);
    let higher_is_better = monitor_direction(&config.monitor)?;

    let mut state = LoopState {
        epochs_done: 0,
        global_step: 0,
        early_stopping: EarlyStopping::new(higher_is_better, config.patience, config.min_delta),
        stopped_early: false,
        history: Vec::new(),
        seconds: 0.0,
    };
    let mut best: BTreeMap<String, Tensor> = snapshot(&vars)?;
    if resume {
        let saved = checkpoint::load(&out.join(CHECKPOINT_FILE), &device)?;
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
        }
        optimizer.load_state(&saved.optimizer)?;
        state = saved.state;
        observer.message(&format!("resuming after epoch {}", state.epochs_done));
    }

    let lengths: Vec<usize> = data.train.encoded.iter().map(Vec::len).collect();
    let scorer = Scorer {
        batch_size: config.eval_batch_size,
        pad_id,
        device: &device,
        labels: &data.labels,
        observer,
    };
    while state.epochs_done < config.epochs && !state.stopped_early {
        let epoch = state.epochs_done + 1;
        let epoch_start = Instant::now();
        let batches = epoch_batches(
            &(0..data.train.len()).collect::<Vec<_>>(),
            config.batch_size,
            config.seed,
            epoch,
            config.group_by_length.then_some(lengths.as_slice()),
        );
        observer.epoch_start(epoch, config.epochs, batches.len());
        let mut mode = Mode::train(ChaCha8Rng::seed_from_u64(
            config.seed.wrapping_mul(31).wrapping_add(epoch as u64),
        ));
        let mut loss_sum = 0.0;
        let mut penalty_sum = 0.0;
        let mut accumulated: Option<candle_core::backprop::GradStore> = None;
        for (index, rows) in batches.iter().enumerate() {
            let batch = make_batch(&data.train.encoded, rows, pad_id, &device)?;
            let targets: Vec<usize> = rows.iter().map(|&r| data.train.targets[r]).collect();
            let logits = classifier.forward(&batch.ids, &batch.mask, &mut mode)?;
            let data_loss = cross_entropy(&logits, &targets, config.label_smoothing)?;
            let mut objective = data_loss.clone();
            if config.l1 > 0.0 {
                if let Some(penalty) = l1_penalty(&l1_weights, config.l1)? {
                    penalty_sum += penalty.to_scalar::<f32>()? as f64;
                    objective = (objective + penalty)?;
                }
            }
            let objective = (objective * (1.0 / config.grad_accum as f64))?;
            let grads = objective.backward()?;
            let loss = data_loss.to_scalar::<f32>()? as f64;
            if !loss.is_finite() {
                return Err(Error::Invalid(format!(
                    "training diverged at epoch {epoch}, batch {}: the loss is {loss}; lower --lr",
                    index + 1
                )));
            }
            loss_sum += loss;
            observer.batch_end(loss);
            super::optimizer::accumulate(&mut accumulated, &grads, vars.values())?;
            drop(grads);
            let boundary = (index + 1) % config.grad_accum == 0 || index + 1 == batches.len();
            if boundary {
                let grads = accumulated.take().unwrap_or_default();
                let norm = grad_norm(&grads, vars.values())?;
                if !norm.is_finite() {
                    return Err(Error::Invalid(format!(
                        "training diverged at epoch {epoch}: the gradient norm is {norm}; lower --lr"
                    )));
                }
                let scale = if config.grad_clip > 0.0 {
                    clip_coefficient(norm, config.grad_clip)?
                } else {
                    1.0
                };
                let factor = schedule.factor(state.global_step);
                optimizer.step_with_grad_scale(&grads, factor, scale)?;
                state.global_step += 1;
            }
        }

        let mut record = Map::new();
        record.insert("epoch".into(), json!(epoch));
        record.insert("step".into(), json!(state.global_step));
        record.insert(
            "lr".into(),
            json!(config.lr * schedule.factor(state.global_step.saturating_sub(1))),
        );
        record.insert(
            "train_loss".into(),
            json!(loss_sum / batches.len().max(1) as f64),
        );
        record.insert(
            "penalty".into(),
            json!(penalty_sum / batches.len().max(1) as f64),
        );
        let (val_loss, val_metrics) = scorer.score(&classifier, &data.val, None, "validation")?;
        let (_, train_metrics) = scorer.score(
            &classifier,
            &data.train,
            Some(&train_sample),
            "training sample",
        )?;
        record.insert("val_loss".into(), json!(val_loss));
        insert_metrics(&mut record, "train", &train_metrics);
        insert_metrics(&mut record, "val", &val_metrics);
        let seconds = epoch_start.elapsed().as_secs_f64();
        record.insert("seconds".into(), json!(seconds));

        let monitored = if config.monitor == "val_loss" {
            Some(val_loss)
        } else {
            val_metrics.get(&config.monitor["val_".len()..])
        };
        match state.early_stopping.update(epoch, monitored) {
            Outcome::Improved => best = snapshot(&vars)?,
            Outcome::NotImproved => {}
            Outcome::Stop => state.stopped_early = true,
        }
        state.epochs_done = epoch;
        state.seconds += seconds;
        state.history.push(record.clone());
        observer.epoch_end(&record);
        write_history(&out, &state.history)?;
        checkpoint::save(
            &out.join(CHECKPOINT_FILE),
            &state,
            &snapshot(&vars)?,
            &best,
            &optimizer.state()?,
        )?;
        if !observer.keep_going() && state.epochs_done < config.epochs && !state.stopped_early {
            return Err(Error::Interrupted {
                epochs_done: state.epochs_done,
                out,
            });
        }
    }
    if state.stopped_early {
        observer.message(&format!(
            "stopped early after epoch {}: {} did not improve for {} epochs",
            state.epochs_done, config.monitor, config.patience
        ));
    }

    // Restore the best epoch's weights, as Trainer's load_best_model_at_end does.
    let final_start = Instant::now();
    for (name, var) in &vars {
        var.set(&best[name])?;
    }
    let (val_loss, val) = scorer.score(&classifier, &data.val, None, "validation")?;
    let test = match &data.test {
        Some(test) => Some(scorer.score(&classifier, test, None, "test")?),
        None => None,
    };

    let info = ClassifierInfo {
        labels: data.labels.labels().to_vec(),
        pooling: config.pooling,
        max_len: config.max_len,
        head_hidden: config.head_hidden,
        text_col: config.text_col.clone(),
        label_col: config.label_col.clone(),
    };
    save_classifier(
        &out.join(MODEL_DIR),
        &folder,
        &tokenizer,
        &params.tensors(),
        &info,
        config.dropout,
    )?;
    let result = RunResult {
        out: out.clone(),
        best_epoch: state.early_stopping.best_epoch,
        epochs_run: state.epochs_done,
        stopped_early: state.stopped_early,
        val_loss,
        val,
        test,
        seconds: state.seconds + final_start.elapsed().as_secs_f64(),
    };
    write_metrics(&out, &result, config)?;
    Ok(result)
}

/// Parameter groups as Hugging Face fine-tuning sets them: no weight decay on biases and
/// LayerNorm weights, and the head (with the pooler) at its own learning rate.
fn param_groups(vars: &BTreeMap<String, Var>, config: &TrainConfig) -> Vec<ParamGroup> {
    let mut groups: Vec<ParamGroup> = Vec::new();
    for (name, var) in vars {
        let head = name.starts_with("classifier") || name.starts_with("pooler");
        let decay = hf_weight_decay_applies(name);
        let group_name = format!(
            "{}{}",
            if head { "head" } else { "encoder" },
            if decay { "" } else { "_no_decay" }
        );
        match groups.iter_mut().find(|g| g.name == group_name) {
            Some(group) => group.params.push((name.clone(), var.clone())),
            None => groups.push(ParamGroup {
                name: group_name,
                params: vec![(name.clone(), var.clone())],
                lr: if head { config.head_lr } else { config.lr },
                weight_decay: if decay { config.weight_decay } else { 0.0 },
            }),
        }
    }
    groups
}

/// Copies of the current values of `vars`.
fn snapshot(vars: &BTreeMap<String, Var>) -> Result<BTreeMap<String, Tensor>> {
    vars.iter()
        .map(|(n, v)| Ok((n.clone(), v.as_tensor().copy()?)))
        .collect()
}

/// What evaluating needs besides the classifier and the examples.
struct Scorer<'a> {
    batch_size: usize,
    pad_id: u32,
    device: &'a Device,
    labels: &'a crate::data::LabelMap,
    observer: &'a dyn Observer,
}

impl Scorer<'_> {
    /// Loss and metrics of `classifier` on `rows` of `examples` (all of them when `None`).
    fn score(
        &self,
        classifier: &Classifier,
        examples: &Examples,
        rows: Option<&[usize]>,
        what: &str,
    ) -> Result<(f64, Metrics)> {
        let all: Vec<usize>;
        let rows = match rows {
            Some(rows) => rows,
            None => {
                all = (0..examples.len()).collect();
                &all
            }
        };
        self.observer.eval_start(what, rows.len());
        let logits = predict_logits(
            classifier,
            &examples.encoded,
            rows,
            self.batch_size,
            self.pad_id,
            self.device,
            &mut |n| self.observer.eval_progress(n),
        )?;
        let targets: Vec<usize> = rows.iter().map(|&r| examples.targets[r]).collect();
        score(&logits, &targets, self.labels)
    }
}

/// Adds every scalar metric as `<prefix>_<name>` (undefined ones as null).
fn insert_metrics(record: &mut Map<String, Value>, prefix: &str, metrics: &Metrics) {
    for name in SCALAR_METRICS {
        record.insert(format!("{prefix}_{name}"), json!(metrics.get(name)));
    }
}

/// Creates the run folder. A fresh run removes a previous run's outputs first, so that a
/// failed run never leaves an old `model/` looking like its result; `config.toml` is written
/// at once. A resumed run needs the checkpoint.
fn prepare_run_dir(out: &Path, config: &TrainConfig, resume: bool) -> Result<()> {
    if resume {
        if !out.join(CHECKPOINT_FILE).is_file() {
            return Err(Error::Invalid(format!(
                "nothing to resume: {} has no {CHECKPOINT_FILE}",
                out.display()
            )));
        }
        return Ok(());
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    for file in [HISTORY_FILE, METRICS_FILE, CHECKPOINT_FILE] {
        let path = out.join(file);
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    let model = out.join(MODEL_DIR);
    if model.exists() {
        std::fs::remove_dir_all(&model).map_err(|e| Error::io(&model, e))?;
    }
    write_atomic(&out.join(CONFIG_FILE), config.to_toml()?.as_bytes())
}

fn write_history(out: &Path, history: &[Map<String, Value>]) -> Result<()> {
    let mut text = String::new();
    for record in history {
        text += &serde_json::to_string(record).map_err(|e| Error::Invalid(e.to_string()))?;
        text.push('\n');
    }
    write_atomic(&out.join(HISTORY_FILE), text.as_bytes())
}

fn write_metrics(out: &Path, result: &RunResult, config: &TrainConfig) -> Result<()> {
    let mut doc = Map::new();
    doc.insert("best_epoch".into(), json!(result.best_epoch));
    doc.insert("epochs_run".into(), json!(result.epochs_run));
    doc.insert("stopped_early".into(), json!(result.stopped_early));
    doc.insert("monitor".into(), json!(config.monitor));
    doc.insert("seconds".into(), json!(result.seconds));
    doc.insert("val_loss".into(), json!(result.val_loss));
    doc.insert(
        "val".into(),
        serde_json::to_value(&result.val).map_err(|e| Error::Invalid(e.to_string()))?,
    );
    if let Some((loss, metrics)) = &result.test {
        doc.insert("test_loss".into(), json!(loss));
        doc.insert(
            "test".into(),
            serde_json::to_value(metrics).map_err(|e| Error::Invalid(e.to_string()))?,
        );
    }
    let text =
        serde_json::to_string_pretty(&doc).map_err(|e| Error::Invalid(e.to_string()))? + "\n";
    write_atomic(&out.join(METRICS_FILE), text.as_bytes())
}
