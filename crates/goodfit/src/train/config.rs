//! Every setting of a training run, validated once.
//!
//! The same struct is read from `--config FILE` (TOML), overridden by command-line flags, and
//! written back as `RUN_DIR/config.toml`; each key is the flag's name with `_` for `-`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::decision::Objective;
use crate::error::{Error, Position, Result};
use crate::metrics::SCALAR_METRICS;
use crate::model::{DeviceSpec, Pooling, TrainLayers};

use super::imbalance::{ClassWeight, LossKind, Sampler};
use super::oversample::Oversample;
use super::schedule::{ScheduleKind, Warmup};

/// A training run's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// A model folder, or a Hugging Face hub id.
    pub model: String,
    /// The training file.
    pub train: PathBuf,
    /// The validation file; without one, `val_fraction` of the training file (stratified).
    pub val: Option<PathBuf>,
    /// A test file, scored once at the end with the restored best weights.
    pub test: Option<PathBuf>,
    /// The run folder.
    pub out: PathBuf,
    /// The text column.
    pub text_col: String,
    /// The label column.
    pub label_col: String,
    /// Passes over the training data.
    pub epochs: usize,
    /// Examples per optimizer step (before gradient accumulation).
    pub batch_size: usize,
    /// The encoder's peak learning rate.
    pub lr: f64,
    /// The head's (and pooler's) peak learning rate: a fresh head learns faster than
    /// pretrained layers can safely move.
    pub head_lr: f64,
    /// Decoupled (AdamW) weight decay, not applied to biases and LayerNorm weights.
    pub weight_decay: f64,
    /// L1 penalty on the trainable weights that take weight decay.
    pub l1: f64,
    /// Dropout in trainable layers and the head; unset keeps the model config's.
    pub dropout: Option<f64>,
    /// Top encoder layers that train (`0`: the head only; `all`: everything).
    #[serde(with = "as_text")]
    pub train_layers: TrainLayers,
    /// How token states are pooled.
    pub pooling: Pooling,
    /// Width of a hidden layer in the head; unset for a linear head.
    pub head_hidden: Option<usize>,
    /// Longest input in tokens; longer texts are truncated.
    pub max_len: usize,
    /// Warm-up: a ratio of all steps (`0.1`) or a number of steps (`100`).
    #[serde(with = "as_text")]
    pub warmup: Warmup,
    /// The learning-rate shape after warm-up.
    pub schedule: ScheduleKind,
    /// Clip gradients to this global L2 norm (0 turns clipping off).
    pub grad_clip: f64,
    /// Mini-batches whose gradients are summed before each optimizer step.
    pub grad_accum: usize,
    /// Label smoothing ε: the target puts 1 − ε on the true class and ε spread over all.
    pub label_smoothing: f64,
    /// Class weights in the loss: `none`, `balanced`, `sqrt` or `effective:BETA`.
    #[serde(with = "as_text")]
    pub class_weight: ClassWeight,
    /// The loss: `ce`, `focal` or `logit-adjusted`.
    #[serde(with = "as_text")]
    pub loss: LossKind,
    /// Focal loss's γ (with `loss = "focal"`).
    pub focal_gamma: f64,
    /// τ of the logit-adjusted loss (with `loss = "logit-adjusted"`).
    pub logit_tau: f64,
    /// How each epoch's rows are drawn: `random`, `balanced` or `sqrt`.
    #[serde(with = "as_text")]
    pub sampler: Sampler,
    /// With a frozen encoder (`train_layers = 0`), add synthetic minority embeddings made
    /// by `random`, `smote`, `borderline` or `adasyn` oversampling.
    pub oversample: Option<Oversample>,
    /// After training, tune the decision rule on the validation set for this objective:
    /// `f1`, `f1_macro`, `balanced_accuracy`, `youden` or `cost:FILE`.
    pub tune_threshold: Option<Objective>,
    /// Post-hoc logit adjustment: predict `argmax(log p − τ · log prior)` with this τ.
    pub logit_adjust: Option<f64>,
    /// With no imbalance remedy set and classes imbalanced enough to call for one (over
    /// 3 : 1, or from 1.5 : 1 under 500 training rows), train with the logit-adjusted loss
    /// instead of plain cross-entropy, and say so; `false` keeps cross-entropy (and the
    /// warning). Setting any remedy, `loss = "ce"` included, turns it off.
    pub default_remedy: bool,
    /// Start the head from this saved classifier's head (a `model` folder of a head-only
    /// run on the same model, labels and pooling): linear probing, then fine-tuning (LP-FT,
    /// Kumar et al. 2022), so the pretrained features are not distorted by a random head.
    pub init_head: Option<PathBuf>,
    /// Layer-wise learning-rate decay (Sun et al. 2019): each encoder layer trains at this
    /// factor times the rate of the layer above it, the top layer at `lr` (1: no decay).
    pub layer_lr_decay: f64,
    /// Re-initialise the top N encoder layers before fine-tuning (Zhang et al. 2021); they
    /// must be among the layers that train.
    pub reinit_layers: usize,
    /// Keep the average of the last N epochs' weights instead of the best epoch's
    /// (stochastic weight averaging, Izmailov et al. 2018; 0: off).
    pub swa_epochs: usize,
    /// R-Drop's α (Liang et al. 2021): each batch runs twice with different dropout and the
    /// loss adds α times the symmetric KL divergence of the two predictions (0: off).
    pub rdrop: f64,
    /// Gradual unfreezing (Howard & Ruder 2018): the first epoch trains the head alone and
    /// each later epoch one more of the layers that train, from the top down.
    pub gradual_unfreeze: bool,
    /// Mixup (Zhang et al. 2018): each batch trains on `λ·x + (1 − λ)·x'` of its examples,
    /// λ ~ Beta(α, α) (0: off) — of their pooled vectors for text (Guo et al. 2019), of
    /// their pixels for pictures (as timm's `Mixup`).
    pub mixup: f64,
    /// Image models: CutMix (Yun et al. 2019), a box of another picture of the batch pasted
    /// in, its area drawn from Beta(α, α) (0: off); with `mixup` too, each batch takes one.
    pub cutmix: f64,
    /// Easy data augmentation (Wei & Zou 2019): this many copies of each training text,
    /// each with random word swaps or deletions, join the training set (0: off).
    pub eda_copies: usize,
    /// EDA's α: the share of a text's words swapped, or each word's chance of deletion.
    pub eda_alpha: f64,
    /// Image models: a random resized crop keeping at least this share of the picture's
    /// area (torchvision's `RandomResizedCrop(scale=(s, 1))`; 0: off).
    pub augment_crop: f64,
    /// Image models: flip training pictures left–right with probability ½.
    pub augment_flip: bool,
    /// Image models: rotate training pictures by up to this many degrees (0: off).
    pub augment_rotate: f64,
    /// Image models: colour jitter of brightness, contrast and saturation by factors in
    /// [1 − j, 1 + j] (0: off).
    pub augment_jitter: f64,
    /// Epochs without improvement before stopping (0: never stop early).
    pub patience: usize,
    /// The smallest change that counts as an improvement.
    pub min_delta: f64,
    /// What early stopping and best-epoch selection watch: `val_loss` or `val_<metric>`.
    pub monitor: String,
    /// The validation share taken from the training file when there is no `val`.
    pub val_fraction: f64,
    /// Seeds the split, the shuffles, dropout and new weights.
    pub seed: u64,
    /// Seeds the validation split instead of `seed`, when set: the trials of
    /// `goodfit train --auto` vary their seeds but keep one split.
    pub split_seed: Option<u64>,
    /// Batch training examples of similar length together (less padding, faster).
    pub group_by_length: bool,
    /// Compute the frozen bottom layers' output once per example and keep it in memory
    /// (about tokens × hidden × 4 bytes per example), so epochs run only the layers that
    /// train.
    pub cache_frozen: bool,
    /// Training metrics are computed on at most this many training examples.
    pub train_eval_size: usize,
    /// Batch size for evaluation and prediction.
    pub eval_batch_size: usize,
    /// Fail on empty texts instead of skipping them.
    pub strict: bool,
    /// A `goodfit audit` folder made on the training file: its counts go in the report,
    /// its flagged rows in the verdicts' evidence.
    pub audit: Option<PathBuf>,
    /// Leave the training rows the audit flags as probably mislabelled out of training
    /// (the validation rows stay as they are, so scores remain comparable).
    pub drop_flagged: bool,
    /// The training file's lines left out of training (what `drop_flagged` drops, read
    /// from the audit by the step above training).
    #[serde(skip)]
    pub drop_lines: Vec<u64>,
    /// Where tensors live: `cpu` (what this build supports), or `cuda` / `cuda:N` in a
    /// build with CUDA support.
    #[serde(with = "as_text")]
    pub device: DeviceSpec,
    /// No progress bars.
    pub quiet: bool,
    /// Replace a run already in `out` (Hugging Face's `overwrite_output_dir`); without it a
    /// fresh run refuses a folder holding one. Not kept in `config.toml`: reusing a run's
    /// settings never replaces a run unasked.
    #[serde(skip)]
    pub overwrite: bool,
}

/// Settings that passed [`TrainConfig::validate`]: what a [`Session`](super::Session)
/// holds and so what every fit trains with (linfa's checked hyper-parameters: check
/// once, then carry the proof instead of checking again).
#[derive(Debug, Clone, PartialEq)]
pub struct Checked(TrainConfig);

impl std::ops::Deref for Checked {
    type Target = TrainConfig;
    fn deref(&self) -> &TrainConfig {
        &self.0
    }
}

impl Checked {
    /// The settings.
    pub fn get(&self) -> &TrainConfig {
        &self.0
    }
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            model: String::new(),
            train: PathBuf::new(),
            val: None,
            test: None,
            out: PathBuf::from("runs/latest"),
            text_col: "text".into(),
            label_col: "label".into(),
            epochs: 3,
            batch_size: 16,
            lr: 1e-4,
            head_lr: 1e-3,
            weight_decay: 0.01,
            l1: 0.0,
            dropout: None,
            train_layers: TrainLayers::Top(2),
            pooling: Pooling::Mean,
            head_hidden: None,
            max_len: 128,
            warmup: Warmup::Ratio(0.1),
            schedule: ScheduleKind::Linear,
            grad_clip: 1.0,
            grad_accum: 1,
            label_smoothing: 0.0,
            default_remedy: true,
            init_head: None,
            layer_lr_decay: 1.0,
            reinit_layers: 0,
            swa_epochs: 0,
            rdrop: 0.0,
            gradual_unfreeze: false,
            mixup: 0.0,
            eda_copies: 0,
            eda_alpha: 0.1,
            augment_crop: 0.0,
            augment_flip: false,
            augment_rotate: 0.0,
            augment_jitter: 0.0,
            cutmix: 0.0,
            class_weight: ClassWeight::None,
            loss: LossKind::CrossEntropy,
            focal_gamma: 2.0,
            logit_tau: 1.0,
            sampler: Sampler::Random,
            oversample: None,
            tune_threshold: None,
            logit_adjust: None,
            patience: 2,
            min_delta: 0.0,
            monitor: "val_loss".into(),
            val_fraction: 0.1,
            seed: 42,
            split_seed: None,
            group_by_length: true,
            cache_frozen: true,
            train_eval_size: 1000,
            eval_batch_size: 64,
            strict: false,
            audit: None,
            drop_flagged: false,
            drop_lines: Vec::new(),
            device: DeviceSpec::Cpu,
            quiet: false,
            overwrite: false,
        }
    }
}

/// The settings that choose an imbalance remedy: when a user sets any of them (`loss = "ce"`
/// included), no default remedy is added on top (`default_remedy`).
pub const REMEDY_SETTINGS: [&str; 6] = [
    "class_weight",
    "loss",
    "sampler",
    "tune_threshold",
    "logit_adjust",
    "oversample",
];

impl TrainConfig {
    /// The names of every setting (the keys of `config.toml`, the flags in snake_case).
    pub fn setting_names() -> Vec<String> {
        match serde_json::to_value(TrainConfig::default()) {
            Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// A configuration from named settings (a JSON object whose keys are the settings'
    /// names), checked: an unknown name (refused by `deny_unknown_fields`) or a bad value is
    /// an error naming the setting. A remedy the caller chose is theirs ([`REMEDY_SETTINGS`]).
    pub fn from_settings(
        mut settings: serde_json::Map<String, serde_json::Value>,
    ) -> Result<TrainConfig> {
        if !settings.contains_key("default_remedy")
            && REMEDY_SETTINGS.iter().any(|k| settings.contains_key(*k))
        {
            settings.insert("default_remedy".into(), serde_json::Value::Bool(false));
        }
        // serde's message does not name the key: the key that fails alone does.
        let parse = |map: serde_json::Map<String, serde_json::Value>| {
            serde_json::from_value::<TrainConfig>(serde_json::Value::Object(map))
        };
        let config = parse(settings.clone()).map_err(|error| {
            let key = settings.iter().find_map(|(k, v)| {
                let one = serde_json::Map::from_iter([(k.clone(), v.clone())]);
                parse(one).is_err().then_some(k)
            });
            match key {
                Some(key) => Error::Invalid(format!("setting '{key}': {error}")),
                None => Error::Invalid(format!("invalid setting: {error}")),
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads a TOML configuration file; missing keys take their defaults.
    pub fn read(path: &Path) -> Result<TrainConfig> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::io(path, source))?;
        Self::from_toml(&text, path)
    }

    /// Parses TOML text (`path` names it in errors).
    pub fn from_toml(text: &str, path: &Path) -> Result<TrainConfig> {
        toml::from_str(text).map_err(|error| {
            let mut pos = Position::file(path);
            if let Some(span) = error.span() {
                let start = span.start.min(text.len());
                let line = text[..start].matches('\n').count() as u64 + 1;
                pos = Position::line(path, line);
                // The span of a bad value sits on its `key = value` line: name the key.
                let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
                let line_text = text[line_start..].lines().next().unwrap_or("");
                if let Some((key, _)) = line_text.split_once('=') {
                    let key = key.trim().trim_matches('"');
                    if !key.is_empty() && !key.starts_with('[') {
                        pos = pos.with_field(key);
                    }
                }
            }
            Error::input(pos, error.message().to_string())
        })
    }

    /// The configuration as TOML.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self)
            .map_err(|error| Error::Invalid(format!("cannot write the configuration: {error}")))
    }

    /// The image augmentations the `--augment-*` settings turn on.
    pub fn image_augment(&self) -> crate::model::image_augment::ImageAugment {
        crate::model::image_augment::ImageAugment {
            crop: self.augment_crop,
            flip: self.augment_flip,
            rotate: self.augment_rotate,
            jitter: self.augment_jitter,
        }
    }

    /// How pictures are mixed (`--mixup`, `--cutmix`), on an image model.
    pub fn pixel_mixing(&self) -> super::mixup::PixelMixing {
        super::mixup::PixelMixing {
            mixup: self.mixup,
            cutmix: self.cutmix,
        }
    }

    /// Whether an imbalance remedy is set: class weights, a loss other than cross-entropy,
    /// a sampler, a decision rule or embedding oversampling.
    pub fn imbalance_remedied(&self) -> bool {
        self.class_weight != ClassWeight::None
            || self.loss != LossKind::CrossEntropy
            || self.sampler != Sampler::Random
            || self.tune_threshold.is_some()
            || self.logit_adjust.is_some()
            || self.oversample.is_some()
    }

    /// These settings, checked ([`validate`](Self::validate)).
    pub fn check(&self) -> Result<Checked> {
        self.validate()?;
        Ok(Checked(self.clone()))
    }

    /// Checks every setting once, so that training never meets a bad value halfway.
    pub fn validate(&self) -> Result<()> {
        let bad = |message: String| Err(Error::Invalid(message));
        if self.model.is_empty() {
            return bad("no model: pass --model DIR (a Hugging Face folder) or a hub id".into());
        }
        if self.train.as_os_str().is_empty() {
            return bad("no training data: pass --train FILE".into());
        }
        if self.text_col == self.label_col {
            return bad(format!(
                "--text-col and --label-col both name '{}': the labels would be the texts",
                self.text_col
            ));
        }
        let positive = [
            ("epochs", self.epochs),
            ("batch-size", self.batch_size),
            ("grad-accum", self.grad_accum),
            ("eval-batch-size", self.eval_batch_size),
            ("train-eval-size", self.train_eval_size),
        ];
        for (name, value) in positive {
            if value == 0 {
                return bad(format!("--{name} must be at least 1"));
            }
        }
        for (name, value) in [("lr", self.lr), ("head-lr", self.head_lr)] {
            if !(value.is_finite() && value > 0.0) {
                return bad(format!("--{name} must be a positive number, not {value}"));
            }
        }
        for (name, value) in [
            ("weight-decay", self.weight_decay),
            ("l1", self.l1),
            ("grad-clip", self.grad_clip),
            ("min-delta", self.min_delta),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return bad(format!("--{name} must be zero or positive, not {value}"));
            }
        }
        let unit = |name: &str, value: f64| {
            if (0.0..1.0).contains(&value) {
                Ok(())
            } else {
                Err(Error::Invalid(format!(
                    "--{name} must be in [0, 1), not {value}"
                )))
            }
        };
        unit("label-smoothing", self.label_smoothing)?;
        if self.drop_flagged && self.audit.is_none() {
            return bad("--drop-flagged drops the rows an audit flags: give --audit AUDIT_DIR (a `goodfit audit --out` folder)".into());
        }
        if self.drop_flagged && self.eda_copies > 0 {
            return bad("--drop-flagged cannot be combined with --eda-copies (the copies of a flagged row would still train)".into());
        }
        if let Some(dropout) = self.dropout {
            unit("dropout", dropout)?;
        }
        if !(self.val_fraction > 0.0 && self.val_fraction < 1.0) {
            return bad(format!(
                "--val-fraction must be between 0 and 1, not {}",
                self.val_fraction
            ));
        }
        if self.max_len < 2 {
            return bad(format!(
                "--max-len must be at least 2 (room for [CLS] and [SEP]), not {}",
                self.max_len
            ));
        }
        if self.head_hidden == Some(0) {
            return bad("--head-hidden must be at least 1".into());
        }
        monitor_direction(&self.monitor)?;
        if !(self.layer_lr_decay.is_finite()
            && self.layer_lr_decay > 0.0
            && self.layer_lr_decay <= 1.0)
        {
            return bad(format!(
                "--layer-lr-decay must be in (0, 1], not {}",
                self.layer_lr_decay
            ));
        }
        if !(self.rdrop.is_finite() && self.rdrop >= 0.0) {
            return bad(format!(
                "--rdrop must be zero or positive, not {}",
                self.rdrop
            ));
        }
        for (flag, value, max) in [
            ("--augment-crop", self.augment_crop, 1.0),
            ("--augment-rotate", self.augment_rotate, 180.0),
            ("--augment-jitter", self.augment_jitter, 0.99),
        ] {
            if !(value.is_finite() && (0.0..=max).contains(&value)) {
                return bad(format!("{flag} must be between 0 and {max}, not {value}"));
            }
        }
        for (flag, value) in [("--mixup", self.mixup), ("--cutmix", self.cutmix)] {
            if !(value.is_finite() && value >= 0.0) {
                return bad(format!("{flag} must be zero or positive, not {value}"));
            }
        }
        if !(self.eda_alpha.is_finite() && self.eda_alpha > 0.0 && self.eda_alpha < 1.0) {
            return bad(format!(
                "--eda-alpha must be between 0 and 1, not {}",
                self.eda_alpha
            ));
        }
        if self.swa_epochs > self.epochs {
            return bad(format!(
                "--swa-epochs {} averages more epochs than the {} that run (--epochs)",
                self.swa_epochs, self.epochs
            ));
        }
        if self.reinit_layers > 0 {
            if let TrainLayers::Top(k) = self.train_layers {
                if self.reinit_layers > k {
                    return bad(format!(
                        "--reinit-layers {} re-initialises layers that would not train: --train-layers is {k}",
                        self.reinit_layers
                    ));
                }
            }
        }
        if let Some(tau) = self.logit_adjust {
            if !(tau.is_finite() && tau >= 0.0) {
                return bad(format!(
                    "--logit-adjust must be zero or positive, not {tau}"
                ));
            }
            if self.tune_threshold.is_some() {
                return bad(
                    "--logit-adjust and --tune-threshold both set the decision rule: choose one"
                        .into(),
                );
            }
        }
        if let Some(how) = self.oversample {
            if self.train_layers != TrainLayers::Top(0) {
                return bad(format!(
                    "--oversample {how} makes synthetic embeddings of the frozen encoder: add --train-layers 0"
                ));
            }
        }
        if let Some(Objective::Cost(path)) = &self.tune_threshold {
            if !path.is_file() {
                return bad(format!("the cost matrix {} does not exist", path.display()));
            }
        }
        Ok(())
    }
}

/// Whether a bigger value of the monitored quantity is better, or an error listing the
/// quantities that can be monitored.
pub fn monitor_direction(monitor: &str) -> Result<bool> {
    if monitor == "val_loss" {
        return Ok(false);
    }
    monitor
        .strip_prefix("val_")
        .and_then(crate::metrics::higher_is_better)
        .ok_or_else(|| {
            Error::Invalid(format!(
                "--monitor '{monitor}' is not val_loss or val_<metric>; metrics: {}",
                SCALAR_METRICS.join(", ")
            ))
        })
}

/// Serde through `Display` and `FromStr`, for settings written as text (`all`, `0.1`).
mod as_text {
    use std::fmt::Display;
    use std::str::FromStr;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<T: Display, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum TextOrNumber {
            Text(String),
            Int(u64),
            Float(f64),
        }
        let text = match TextOrNumber::deserialize(deserializer)? {
            TextOrNumber::Text(text) => text,
            TextOrNumber::Int(n) => n.to_string(),
            TextOrNumber::Float(x) => format!("{x:?}"),
        };
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_toml_with_defaults_for_missing_keys() {
        let config = TrainConfig::from_toml(
            "model = \"m\"\ntrain = \"t.csv\"\ntrain_layers = \"all\"\nwarmup = 100\nepochs = 5\n",
            Path::new("c.toml"),
        )
        .unwrap();
        assert_eq!(config.train_layers, TrainLayers::All);
        assert_eq!(config.warmup, Warmup::Steps(100));
        assert_eq!(config.epochs, 5);
        assert_eq!(config.batch_size, 16);
        let again =
            TrainConfig::from_toml(&config.to_toml().unwrap(), Path::new("c.toml")).unwrap();
        assert_eq!(again, config);
        let numeric =
            TrainConfig::from_toml("train_layers = 3\nwarmup = 0.06\n", Path::new("c.toml"))
                .unwrap();
        assert_eq!(numeric.train_layers, TrainLayers::Top(3));
        assert_eq!(numeric.warmup, Warmup::Ratio(0.06));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_their_place() {
        let error = TrainConfig::from_toml("epochs = 3\nbatch_sise = 8\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("c.toml:2, field 'batch_sise': unknown field `batch_sise`"),
            "{error}"
        );
        let mut config = TrainConfig {
            model: "m".into(),
            train: "t.csv".into(),
            ..TrainConfig::default()
        };
        assert!(config.validate().is_ok());
        config.monitor = "val_f1".into();
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("f1_macro"));
        config.monitor = "val_f1_macro".into();
        assert!(monitor_direction(&config.monitor).unwrap());
        config.lr = 0.0;
        assert!(config
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--lr must be a positive number"));
    }
}
