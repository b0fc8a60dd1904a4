//! A training session: the model folder, its tokenizer, the prepared data and what the
//! frozen part of the model computes, loaded once and shared by every fit of a
//! configuration (one run, the folds of cross-validation, the trials of a search).

use candle_core::Device;

use crate::error::{Error, Result};
use crate::model::registry;
use crate::model::{
    resolve_model, Classifier, ClassifierSpec, Collator, Example, ModelFolder, Params,
    Preprocessor, TrainLayers,
};

use super::config::{Checked, TrainConfig};
use super::data::{prepare, Examples, Prepared};
use super::feature_cache;
use super::frozen::{FrozenCache, Precomputed};
use super::imbalance::{calls_for_remedy, class_counts, LossKind};
use super::observer::Observer;

/// What every fit of one configuration shares: the model folder, the tokenizer, the data and,
/// what the frozen part of the model computes, done once.
pub struct Session {
    /// The settings, checked, with `max_len` clamped to the model's positions.
    pub config: Checked,
    /// The pretrained model.
    pub folder: ModelFolder,
    /// Its preprocessor (the tokenizer).
    pub preprocessor: Preprocessor,
    /// Tokenised, split data.
    pub data: Prepared,
    /// The frozen part's outputs, computed once (see [`FrozenCache`]).
    pub cache: Option<FrozenCache>,
    /// The device tensors live on.
    pub device: Device,
}

impl Session {
    /// Loads the model and the data of `config`.
    pub fn open(config: &Checked, observer: &dyn Observer) -> Result<Session> {
        let SessionInputs {
            mut config,
            device,
            folder,
            preprocessor,
            data,
        } = SessionInputs::read(config, observer)?;
        if config.default_remedy && !config.imbalance_remedied() {
            let rows = &data.train.targets[..data.train_rows];
            let counts = class_counts(rows, data.labels.len());
            if let Some(ratio) = calls_for_remedy(&counts) {
                observer.message(&format!(
                    "the training classes are imbalanced ({ratio:.1} : 1) and no remedy is set: training with the logit-adjusted loss (--loss logit-adjusted; --default-remedy false keeps plain cross-entropy)"
                ));
                config.loss = LossKind::LogitAdjusted;
            }
        }
        let mut session = Session {
            // The clamped window and the default remedy are settings validate accepts.
            config: config.check()?,
            folder,
            preprocessor,
            data,
            cache: None,
            device,
        };
        let (classifier, _) = session.build()?;
        let features = session.config.train_layers == TrainLayers::Top(0);
        let mut cache_states =
            session.config.cache_frozen && classifier.backbone().frozen_blocks() > 0;
        if cache_states && !features {
            let floats: usize = [Some(&session.data.train), Some(&session.data.val)]
                .into_iter()
                .chain([session.data.test.as_ref()])
                .flatten()
                .flat_map(|e| e.encoded.iter().map(Example::size))
                .map(|units| classifier.backbone().prefix_floats(units))
                .sum();
            let bytes = floats * 4;
            if bytes > FROZEN_CACHE_LIMIT {
                observer.message(&format!(
                    "not keeping the frozen layers' output: it would take {:.1} GiB (over {} GiB); every epoch runs the whole encoder",
                    bytes as f64 / (1u64 << 30) as f64,
                    FROZEN_CACHE_LIMIT >> 30
                ));
                cache_states = false;
            }
        }
        if features || cache_states {
            let what = if features {
                "frozen encoder, once"
            } else {
                "frozen layers, once"
            };
            let disk = features.then(feature_cache::cache_dir).flatten();
            let compute = |examples: &Examples, name: &str| -> Result<Precomputed> {
                let file = disk.as_ref().map(|dir| {
                    let pooling = format!("{:?}", session.config.pooling);
                    feature_cache::cache_file(dir, &session.folder, &pooling, &examples.encoded)
                });
                if let Some(kept) = file
                    .as_ref()
                    .and_then(|f| feature_cache::load(f, examples.len(), &session.device))
                {
                    observer.message(&format!(
                        "{name}: the frozen encoder's features from the cache ({})",
                        disk.as_ref()
                            .map(|d| d.display().to_string())
                            .unwrap_or_default()
                    ));
                    return Ok(Precomputed::Features(kept));
                }
                observer.eval_start(&format!("{name} ({what})"), examples.len());
                let computed = Precomputed::compute(
                    &classifier,
                    examples,
                    features,
                    session.config.eval_batch_size,
                    &session.collator(),
                    observer,
                )?;
                if let (Some(file), Precomputed::Features(tensor)) = (&file, &computed) {
                    // A cache that cannot be written is only a slower next run.
                    if let Err(e) = feature_cache::store(file, tensor) {
                        observer.message(&format!("not caching the features: {e}"));
                    }
                }
                Ok(computed)
            };
            let cache = FrozenCache {
                train: compute(&session.data.train, "training")?,
                val: compute(&session.data.val, "validation")?,
                test: session
                    .data
                    .test
                    .as_ref()
                    .map(|t| compute(t, "test"))
                    .transpose()?,
            };
            session.cache = Some(cache);
        }
        Ok(session)
    }

    /// Reads and checks what [`open`](Self::open) reads (the device, the model folder, its
    /// tokenizer, every data file, a cost file) without computing anything, for a caller
    /// that opens sessions later but must know its inputs are good before it touches an
    /// output folder.
    pub fn check_inputs(config: &TrainConfig) -> Result<()> {
        SessionInputs::read(config, &super::observer::Silent).map(drop)
    }

    /// The validation split, as [`fit`] scores it.
    pub fn heldout(&self) -> Heldout<'_> {
        Heldout {
            examples: &self.data.val,
            cached: self.cache.as_ref().map(|c| &c.val),
        }
    }

    /// The longest input the model takes, in tokens.
    pub fn positions(&self) -> usize {
        self.folder.positions()
    }

    /// What batches the session's examples.
    pub(crate) fn collator(&self) -> Collator {
        self.folder.collator(self.device.clone())
    }

    /// A fresh classifier: pretrained encoder, new head (seeded).
    pub(crate) fn build(&self) -> Result<(Classifier, Params)> {
        let mut params = Params::load_checkpoint(
            &self.folder.weights,
            self.folder.architecture,
            &self.device,
            self.config.seed,
        )?;
        // A `…ForSequenceClassification` checkpoint's head was trained for other classes:
        // the head starts afresh (or from --init-head), as its doc promises.
        params.forget_pretrained("classifier.");
        super::warm_start::apply(
            &mut params,
            &self.config,
            &self.data.labels,
            &self.folder,
            &self.device,
        )?;
        let spec = ClassifierSpec {
            pooling: self.config.pooling,
            head_hidden: self.config.head_hidden,
            dropout: self.config.dropout,
            train_layers: self.config.train_layers,
            classes: self.data.labels.len(),
        };
        let classifier = Classifier::build(
            &mut params,
            &self.folder.config,
            self.folder.architecture,
            &spec,
        )?;
        Ok((classifier, params))
    }
}

/// What a session is built from, read and checked.
struct SessionInputs {
    /// The settings, with `max_len` clamped to the model's positions.
    config: TrainConfig,
    device: Device,
    folder: ModelFolder,
    preprocessor: Preprocessor,
    data: Prepared,
}

impl SessionInputs {
    /// Opens the device, the model folder and its tokenizer, reads, splits and tokenises
    /// the data, and reads a cost file: a mistake in any of them should cost neither a
    /// training run nor the run already in the output folder.
    fn read(config: &TrainConfig, observer: &dyn Observer) -> Result<SessionInputs> {
        let device = config.device.open()?;
        let model_dir = resolve_model(&config.model)?;
        let folder = ModelFolder::open(&model_dir)?;
        let preprocessor = registry::preprocessor(&folder)?;
        if config.cutmix > 0.0 {
            if let crate::model::ModelConfig::Text(text) = &folder.config {
                return Err(Error::Invalid(format!(
                    "--cutmix pastes a box of one picture into another, and {} is a text model ({}); --mixup mixes texts' pooled vectors",
                    model_dir.display(),
                    text.model_type
                )));
            }
        }
        let image_model = matches!(folder.config, crate::model::ModelConfig::Image(_));
        if image_model && config.pixel_mixing().is_on() {
            observer.message(
                "mixup/cutmix: training pictures are mixed pixel by pixel in each batch, so the frozen layers run on them every time (validation and test still use the cache)",
            );
        }
        if config.image_augment().is_on() {
            if let crate::model::ModelConfig::Text(text) = &folder.config {
                return Err(Error::Invalid(format!(
                    "--augment-crop, --augment-flip, --augment-rotate and --augment-jitter change pictures, and {} is a text model ({})",
                    model_dir.display(),
                    text.model_type
                )));
            }
            observer.message(
                "augmentation: training pictures are changed anew every epoch, so the frozen layers run on them every time (validation and test still use the cache)",
            );
        }
        let positions = folder.positions();
        let mut config = config.clone();
        if config.max_len > positions {
            observer.message(&format!(
                "--max-len {} is more than the model's {positions} positions: using {positions}",
                config.max_len
            ));
            config.max_len = positions;
        }
        let data = prepare(&config, &preprocessor, observer)?;
        if let Some(objective) = &config.tune_threshold {
            objective.scoring(&data.labels, 0)?;
        }
        Ok(SessionInputs {
            config,
            device,
            folder,
            preprocessor,
            data,
        })
    }
}

/// The most memory the frozen layers' cached output may take (4 GiB); above it the cache
/// is skipped with a message.
const FROZEN_CACHE_LIMIT: usize = 4 << 30;

/// Examples scored after each epoch, with what was computed once for them when the bottom
/// of the encoder is frozen.
#[derive(Clone, Copy)]
pub struct Heldout<'a> {
    /// The examples.
    pub examples: &'a Examples,
    /// Their precomputed inputs, when the session has a frozen-layer cache.
    pub cached: Option<&'a Precomputed>,
}
