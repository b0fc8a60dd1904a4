//! `goodfit train`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use goodfit::auto::{run_auto, AutoConfig, Budget, SelectMetric, TRIALS_FILE};
use goodfit::metrics::text_report;
use goodfit::pipeline::{cross_validate, train};
use goodfit::train::TrainConfig;
use serde::Serialize;

use crate::args::print;
use crate::progress::Bars;

/// Flags of `goodfit train`. Every setting can also come from `--config FILE` (TOML, the
/// same keys with `_` for `-`); flags override the file.
#[derive(Debug, Args, Serialize)]
pub struct TrainArgs {
    /// A Hugging Face model folder (config.json, model.safetensors, tokenizer.json) or hub id.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    /// The training file (CSV, TSV, JSONL or Parquet).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    train: Option<PathBuf>,
    /// A validation file [default: a stratified --val-fraction of the training file].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    val: Option<PathBuf>,
    /// A test file, scored once at the end with the best weights.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    test: Option<PathBuf>,
    /// The run folder [default: runs/latest].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    out: Option<PathBuf>,
    /// The text column [default: text].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    text_col: Option<String>,
    /// The label column [default: label].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    label_col: Option<String>,
    /// Passes over the training data [default: 3].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    epochs: Option<usize>,
    /// Examples per batch [default: 16].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    batch_size: Option<usize>,
    /// Peak learning rate of the encoder [default: 1e-4].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    lr: Option<f64>,
    /// Peak learning rate of the head and pooler [default: 1e-3].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    head_lr: Option<f64>,
    /// AdamW weight decay (not on biases and LayerNorm weights) [default: 0.01].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    weight_decay: Option<f64>,
    /// L1 penalty on trainable weights [default: 0].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    l1: Option<f64>,
    /// Dropout in trainable layers and the head [default: the model's, 0.1 for BERT].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    dropout: Option<f64>,
    /// Top encoder layers to train: a number (0 = head only) or `all` [default: 2].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    train_layers: Option<String>,
    /// Pooling: cls, mean, max or pooler [default: mean].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pooling: Option<String>,
    /// Width of a hidden layer in the head [default: none, a linear head].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    head_hidden: Option<usize>,
    /// Longest input in tokens [default: 128].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    max_len: Option<usize>,
    /// Warm-up: a ratio of all steps (0.1) or a number of steps (100) [default: 0.1].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    warmup: Option<String>,
    /// Learning-rate decay after warm-up: linear, cosine or constant [default: linear].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule: Option<String>,
    /// Clip gradients to this global norm; 0 turns clipping off [default: 1].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    grad_clip: Option<f64>,
    /// Batches whose gradients are summed per optimizer step [default: 1].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    grad_accum: Option<usize>,
    /// Label smoothing ε [default: 0].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    label_smoothing: Option<f64>,
    /// Class weights in the loss: none, balanced, sqrt or effective:BETA [default: none].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    class_weight: Option<String>,
    /// The loss: ce, focal or logit-adjusted [default: ce].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    loss: Option<String>,
    /// γ of the focal loss [default: 2].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    focal_gamma: Option<f64>,
    /// τ of the logit-adjusted loss [default: 1].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    logit_tau: Option<f64>,
    /// How each epoch's rows are drawn: random, balanced or sqrt [default: random].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    sampler: Option<String>,
    /// With --train-layers 0: add synthetic minority embeddings (random, smote, borderline or
    /// adasyn) until every class has the majority's count; the head trains on them.
    #[arg(long, value_name = "METHOD")]
    #[serde(skip_serializing_if = "Option::is_none")]
    oversample: Option<String>,
    /// After training, tune the decision rule on the validation set for f1, f1_macro,
    /// balanced_accuracy, youden or cost:FILE (a CSV cost matrix: header of predicted
    /// classes, one row per true class). Two classes: a cut-off on p(rarer class); more: one
    /// logit offset per class. Saved with the model and used by predict.
    #[arg(long, value_name = "OBJECTIVE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    tune_threshold: Option<String>,
    /// Post-hoc logit adjustment: predict argmax(log p − τ·log prior) with the training
    /// class prior (Menon et al. 2021); τ = 1 aims at balanced error.
    #[arg(long, value_name = "TAU")]
    #[serde(skip_serializing_if = "Option::is_none")]
    logit_adjust: Option<f64>,
    /// Start the head from a head-only run's head: its `model` folder (same model, labels,
    /// pooling and head), then fine-tune (LP-FT).
    #[arg(long, value_name = "MODEL_DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    init_head: Option<PathBuf>,
    /// Layer-wise learning-rate decay: each encoder layer trains at this factor times the
    /// rate of the layer above, the top one at --lr; 1 is off [default: 1].
    #[arg(long, value_name = "FACTOR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    layer_lr_decay: Option<f64>,
    /// Re-initialise the top N encoder layers (among those that train) [default: 0].
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    reinit_layers: Option<usize>,
    /// Keep the average of the last N epochs' weights (SWA) instead of the best epoch's;
    /// 0 is off [default: 0].
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    swa_epochs: Option<usize>,
    /// R-Drop: run each batch twice and add ALPHA times the symmetric KL divergence of the
    /// two predictions to the loss; 0 is off [default: 0].
    #[arg(long, value_name = "ALPHA")]
    #[serde(skip_serializing_if = "Option::is_none")]
    rdrop: Option<f64>,
    /// Gradual unfreezing: the first epoch trains the head alone, each later one also the
    /// next of the --train-layers from the top down: true or false [default: false].
    #[arg(long, value_name = "BOOL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    gradual_unfreeze: Option<bool>,
    /// Mixup: each batch trains on mixtures λ·x + (1 − λ)·x' of its examples and of their
    /// losses, λ ~ Beta(ALPHA, ALPHA) — of texts' pooled vectors, of pictures' pixels; 0 is
    /// off [default: 0].
    #[arg(long, value_name = "ALPHA")]
    #[serde(skip_serializing_if = "Option::is_none")]
    mixup: Option<f64>,
    /// Image models: CutMix, a box of another picture of the batch pasted in, its area a
    /// share 1 − λ with λ ~ Beta(ALPHA, ALPHA), the losses weighted alike; with --mixup,
    /// each batch takes one of the two; 0 is off [default: 0].
    #[arg(long, value_name = "ALPHA")]
    #[serde(skip_serializing_if = "Option::is_none")]
    cutmix: Option<f64>,
    /// Image models: random resized crops keeping at least this share of a training
    /// picture's area (torchvision's RandomResizedCrop scale; 0.08 is its default); 0 is
    /// off [default: 0].
    #[arg(long, value_name = "SHARE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    augment_crop: Option<f64>,
    /// Image models: flip training pictures left–right at random: true or false
    /// [default: false].
    #[arg(long, value_name = "BOOL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    augment_flip: Option<bool>,
    /// Image models: rotate training pictures by up to this many degrees either way; 0 is
    /// off [default: 0].
    #[arg(long, value_name = "DEGREES")]
    #[serde(skip_serializing_if = "Option::is_none")]
    augment_rotate: Option<f64>,
    /// Image models: colour jitter, brightness, contrast and saturation each scaled by a
    /// factor in [1 − J, 1 + J]; 0 is off [default: 0].
    #[arg(long, value_name = "J")]
    #[serde(skip_serializing_if = "Option::is_none")]
    augment_jitter: Option<f64>,
    /// Easy data augmentation: add N copies of each training text with random word swaps
    /// (even copies) or deletions (odd ones); not with --auto or --cv-folds [default: 0].
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    eda_copies: Option<usize>,
    /// EDA's strength: the share of words swapped, or each word's chance of deletion
    /// [default: 0.1].
    #[arg(long, value_name = "ALPHA")]
    #[serde(skip_serializing_if = "Option::is_none")]
    eda_alpha: Option<f64>,
    /// With no remedy flag and classes imbalanced over 3 : 1 (from 1.5 : 1 under 500
    /// training rows), train with the logit-adjusted loss: true or false [default: true;
    /// false when any remedy flag, --loss ce included, is given].
    #[arg(long, value_name = "BOOL")]
    #[serde(skip_serializing_if = "Option::is_none")]
    default_remedy: Option<bool>,
    /// Epochs without improvement before stopping; 0 never stops [default: 2].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    patience: Option<usize>,
    /// Smallest change that counts as an improvement [default: 0].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    min_delta: Option<f64>,
    /// What early stopping watches: val_loss or val_<metric>, e.g. val_f1_macro [default: val_loss].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    monitor: Option<String>,
    /// Validation share of the training file when no --val is given [default: 0.1].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    val_fraction: Option<f64>,
    /// Seed of the split, shuffles, dropout and new weights [default: 42].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    /// Seed of the validation split alone [default: --seed].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    split_seed: Option<u64>,
    /// Group training batches by length: true or false [default: true].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    group_by_length: Option<bool>,
    /// Keep the frozen bottom layers' output in memory, computed once, so each epoch runs
    /// only the layers that train: true or false [default: true].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_frozen: Option<bool>,
    /// Training metrics use at most this many training examples [default: 1000].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    train_eval_size: Option<usize>,
    /// Batch size for evaluation [default: 64].
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    eval_batch_size: Option<usize>,
    /// Fail on empty texts instead of skipping them.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    strict: bool,
    /// A `goodfit audit --out` folder made on the training file: its counts join the
    /// report's data section, its flagged rows the verdicts' evidence.
    #[arg(long, value_name = "AUDIT_DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    audit: Option<PathBuf>,
    /// With --audit: leave the training rows it flags as probably mislabelled out of
    /// training (the validation rows stay, so scores compare with a run without it).
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    drop_flagged: bool,
    /// Where to train: cpu, or cuda / cuda:N in a build with CUDA support [default: cpu].
    #[arg(long, value_name = "DEVICE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    device: Option<String>,
    /// No progress bars or per-epoch lines.
    #[arg(long)]
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    quiet: bool,
    /// Read settings from a TOML file (a run's config.toml works); flags override it.
    #[arg(long)]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// Replace the run already in --out (its model, metrics, report and trials); without
    /// it, a folder holding a run is refused before anything is read or written.
    #[arg(long)]
    #[serde(skip)]
    overwrite: bool,
    /// Continue the run in this folder from its last finished epoch.
    #[arg(long)]
    #[serde(skip)]
    resume: Option<PathBuf>,
    /// Search for a configuration that fits: a first recipe from the data, cheap head-only
    /// trials on cached features, then fine-tunes chosen from the verdicts, while the budget
    /// lasts; the best by the validation --select-metric is kept in --out (or the average
    /// of the trials within noise of it, OUT/ensemble.json), every trial is a line of
    /// OUT/trials.jsonl, and a --test file is scored once, at the end, for the choice and
    /// the first trial. The other flags are the starting point.
    #[arg(long)]
    #[serde(skip)]
    auto: bool,
    /// With --auto: wall-clock minutes for the whole search [default: 15, unless only
    /// --max-trials is given].
    #[arg(long, value_name = "M")]
    #[serde(skip)]
    budget_minutes: Option<f64>,
    /// With --auto: the most trials.
    #[arg(long, value_name = "N")]
    #[serde(skip)]
    max_trials: Option<usize>,
    /// With --auto: the validation score that ranks trials: loss or a metric such as
    /// f1_macro, balanced_accuracy, accuracy, mcc, roc_auc [default: f1_macro].
    #[arg(long, value_name = "METRIC")]
    #[serde(skip)]
    select_metric: Option<String>,
    /// Stratified K-fold cross-validation over the training and validation rows (0:
    /// never). Without --auto: the configuration trains once per fold, every row is
    /// predicted out of fold (what `goodfit audit --run` reads), the fold models' average
    /// predicts (a head-only run refits on every row) and scores the test file. With
    /// --auto: scores the trials [default: 5 folds when the validation split would hold
    /// fewer than 20 rows of some class, there are at most 1,000 training rows and no --val
    /// file is given, else none].
    #[arg(long, value_name = "K")]
    #[serde(skip)]
    cv_folds: Option<usize>,
}

/// The search settings of `--auto`, or `None` without it; search flags without `--auto`
/// and bad values are refused before anything runs.
fn auto_config(args: &TrainArgs) -> Result<Option<AutoConfig>> {
    if args.cv_folds == Some(1) {
        bail!("--cv-folds 1 is not cross-validation: give 2 or more folds, or 0 for none");
    }
    if !args.auto {
        if args.resume.is_some() && args.cv_folds.is_some_and(|k| k > 0) {
            bail!("--resume continues one run and cannot be combined with --cv-folds; start the cross-validation again");
        }
        for (flag, given) in [
            ("--budget-minutes", args.budget_minutes.is_some()),
            ("--max-trials", args.max_trials.is_some()),
            ("--select-metric", args.select_metric.is_some()),
        ] {
            if given {
                bail!("{flag} sets up a search: add --auto");
            }
        }
        return Ok(None);
    }
    if args.resume.is_some() {
        bail!(
            "--resume continues one run and cannot be combined with --auto; start the search again"
        );
    }
    let auto = AutoConfig {
        budget_minutes: match (args.budget_minutes, args.max_trials) {
            (None, None) => AutoConfig::default().budget_minutes,
            (minutes, _) => minutes,
        },
        max_trials: args.max_trials,
        select_metric: args
            .select_metric
            .clone()
            .unwrap_or_else(|| AutoConfig::default().select_metric),
        cv_folds: args.cv_folds,
    };
    Budget::new(auto.budget_minutes, auto.max_trials)?;
    SelectMetric::parse(&auto.select_metric)?;
    Ok(Some(auto))
}

/// The configuration: `--config` (or the resumed run's config.toml), then the flags.
pub(crate) fn resolve(args: &TrainArgs) -> Result<TrainConfig> {
    let base = match (&args.resume, &args.config) {
        (_, Some(path)) => Some(path.clone()),
        (Some(run), None) => Some(run.join(goodfit::train::trainer::CONFIG_FILE)),
        (None, None) => None,
    };
    let mut table = match &base {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            // Parse it as a configuration first, for errors that name the file and line.
            goodfit::train::TrainConfig::from_toml(&text, path)?;
            text.parse::<toml::Table>()?
        }
        None => toml::Table::new(),
    };
    for (key, value) in toml::Table::try_from(args)? {
        table.insert(key, value);
    }
    // A remedy the user chose, `--loss ce` included, is theirs: no default remedy on top.
    if !table.contains_key("default_remedy")
        && goodfit::train::config::REMEDY_SETTINGS
            .iter()
            .any(|k| table.contains_key(*k))
    {
        table.insert("default_remedy".into(), toml::Value::Boolean(false));
    }
    if let Some(run) = &args.resume {
        table.insert(
            "out".into(),
            toml::Value::String(run.to_string_lossy().into_owned()),
        );
    }
    let mut config: TrainConfig = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| anyhow::anyhow!("invalid setting: {}", e.message()))?;
    config.overwrite = args.overwrite;
    config.validate()?;
    Ok(config)
}

/// Runs `goodfit train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let auto = auto_config(args)?;
    let config = resolve(args)?;
    if let Some(auto) = auto {
        let bars = Bars::with_interrupt_note(
            config.quiet,
            "the search ends; the trials done are kept, the current one is dropped",
        );
        return search(&config, &auto, &bars);
    }
    let bars = Bars::new(config.quiet);
    let folds = args.cv_folds.filter(|&k| k > 0);
    let result = match folds {
        Some(k) => cross_validate(&config, k, &bars)?,
        None => train(&config, args.resume.is_some(), &bars)?,
    };
    let ((epochs, best), heldout) = match folds {
        Some(k) => (
            ("epochs run (the folds' longest)", "best epoch (the median of the folds')"),
            format!("out of fold: every row predicted by the fold model that did not train on it ({k} folds)"),
        ),
        None => (("epochs run", "best epoch"), "validation".to_string()),
    };
    let mut text = format!(
        "\nrun folder: {}\n{epochs}: {}{}, {best}: {}, {:.0} s\n",
        result.out.display(),
        result.epochs_run,
        if result.stopped_early {
            " (stopped early)"
        } else {
            ""
        },
        result.best_epoch.map_or("-".into(), |e| e.to_string()),
        result.seconds
    );
    text += &format!(
        "\n{heldout} (loss {:.4}):\n{}",
        result.val_loss,
        text_report(&result.val)
    );
    if let Some((loss, test)) = &result.test {
        text += &format!("\ntest (loss {loss:.4}):\n{}", text_report(test));
    }
    if let Some(decision) = &result.decision {
        text += &format!("\n{decision}\n");
    }
    text += &format!("\ndiagnosis:\n{}", result.diagnosis);
    text += &format!(
        "\nreport: {}\n",
        result.out.join(goodfit::report::REPORT_FILE).display()
    );
    print(&text)
}

/// Runs `goodfit train --auto` and prints the choice, with both test scores.
fn search(config: &TrainConfig, auto: &AutoConfig, bars: &Bars) -> Result<()> {
    let result = run_auto(config, auto, bars)?;
    let metric = &result.chosen.select_metric;
    let value = |v: Option<f64>| v.map_or("undefined".into(), |v| format!("{v:.4}"));
    let mut text = format!(
        "\nrun folder: {} (the chosen model; every trial in {})\n{} trials in {:.0} s; the search ended: {}\n",
        result.out.display(),
        result.out.join(TRIALS_FILE).display(),
        result.trials.len(),
        result.seconds,
        result.ended
    );
    text += &format!(
        "chosen: trial {} {}, val {metric} {} (first trial, {}: {})\n",
        result.chosen.index,
        result.chosen.name,
        value(result.chosen.val_metric),
        result.first.name,
        value(result.first.val_metric)
    );
    if let Some(members) = &result.ensemble {
        let members: Vec<String> = members.iter().map(|i| i.to_string()).collect();
        text += &format!(
            "predicting with the ensemble of trials {} (their averaged probabilities; {})\n",
            members.join(", "),
            result
                .out
                .join(goodfit::train::predictor::ENSEMBLE_FILE)
                .display()
        );
    }
    if let Some((chosen, first)) = &result.test {
        let score = |s: &goodfit::auto::TestScore| {
            value(if metric == "loss" {
                Some(s.loss)
            } else {
                s.metrics.get(metric)
            })
        };
        text += &format!(
            "test {metric}, scored once after the search: chosen {}, first trial {}\n",
            score(chosen),
            score(first)
        );
        text += &format!(
            "\ntest of the chosen model (loss {:.4}):\n{}",
            chosen.loss,
            text_report(&chosen.metrics)
        );
    }
    text += &format!("\ndiagnosis of the chosen trial:\n{}", result.diagnosis);
    text += &format!(
        "\nreport: {}\n",
        result.out.join(goodfit::report::REPORT_FILE).display()
    );
    print(&text)
}
