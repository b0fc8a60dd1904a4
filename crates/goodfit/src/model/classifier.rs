//! A classifier: a pretrained [`Backbone`] and goodfit's head.

use candle_core::Tensor;

use crate::error::{Error, Result};

use super::backbone::{Backbone, Part, Place, Places};
use super::bert::TrainLayers;
use super::dropout::Mode;
use super::family::Architecture;
use super::head::Head;
use super::inputs::BatchInputs;
use super::model_config::ModelConfig;
use super::params::Params;
use super::pooling::Pooling;
use super::registry;
use super::text_encoder::hf_weight_decay_applies;

/// The shape of a classifier on top of a pretrained backbone.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierSpec {
    /// How token states are pooled.
    pub pooling: Pooling,
    /// The width of the head's hidden layer; `None` for a linear head.
    pub head_hidden: Option<usize>,
    /// Dropout in trainable layers and the head; `None` keeps the model config's.
    pub dropout: Option<f64>,
    /// Which encoder layers train.
    pub train_layers: TrainLayers,
    /// The number of classes.
    pub classes: usize,
}

/// A pretrained backbone and goodfit's head: inputs in, one logit per class out.
pub struct Classifier {
    backbone: Box<dyn Backbone>,
    head: Head,
}

impl Classifier {
    /// Builds the classifier, taking pretrained weights from `params` and initialising what
    /// the checkpoint lacks (the head; the pooler, when the checkpoint has none). The
    /// backbone is the one the [registry](super::registry) gives `architecture`.
    pub fn build(
        params: &mut Params,
        config: &ModelConfig,
        architecture: Architecture,
        spec: &ClassifierSpec,
    ) -> Result<Classifier> {
        if spec.classes < 2 {
            return Err(Error::Invalid(format!(
                "a classifier needs at least 2 classes, not {}",
                spec.classes
            )));
        }
        let backbone = registry::backbone(params, config, architecture, spec)?;
        let dropout = spec.dropout.unwrap_or(config.dropout());
        let head = Head::load(
            params,
            backbone.feature_size(),
            spec.head_hidden,
            spec.classes,
            dropout,
            architecture.head_activation(),
        )?;
        Ok(Classifier { backbone, head })
    }

    /// Logits `[batch, classes]` for `inputs`.
    pub fn forward(&self, inputs: &BatchInputs, mode: &mut Mode) -> Result<Tensor> {
        let features = self.backbone.features(inputs, mode)?;
        self.head.forward(&features, mode)
    }

    /// Logits `[batch, classes]` from the backbone's features: the head alone.
    pub fn classify(&self, features: &Tensor, mode: &mut Mode) -> Result<Tensor> {
        self.head.forward(features, mode)
    }

    /// The pretrained backbone.
    pub fn backbone(&self) -> &dyn Backbone {
        self.backbone.as_ref()
    }

    /// Where each of `names` (the classifier's weights) sits: the head's own weights are
    /// [`Part::Head`], the rest as the backbone places them.
    pub fn places<'a>(&self, names: impl IntoIterator<Item = &'a String>) -> Places {
        names
            .into_iter()
            .map(|name| {
                let place = head_place(name).unwrap_or_else(|| self.backbone.place(name));
                (name.clone(), place)
            })
            .collect()
    }

    /// The head's hidden width, if it has a hidden layer.
    pub fn head_hidden(&self) -> Option<usize> {
        self.head.hidden_width()
    }
}

/// The prefix of the head's weights (`classifier.weight`, `classifier.dense.…`).
pub const HEAD_PREFIX: &str = "classifier";

/// The place of `name` when it is one of the head's weights: new weights, decayed by
/// Hugging Face's rule like the rest.
pub fn head_place(name: &str) -> Option<Place> {
    name.starts_with(HEAD_PREFIX).then(|| Place {
        layer: HEAD_PREFIX.to_string(),
        part: Part::Head,
        decays: hf_weight_decay_applies(name),
    })
}
