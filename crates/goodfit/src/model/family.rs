//! A model family: everything goodfit knows of one kind of checkpoint — the `model_type`s
//! its `config.json` names, how its weights are named and laid out, and the backbone and
//! preprocessor that read it. Each family's record lives in its own file (BERT and RoBERTa
//! in [`super::text_encoder`], DistilBERT in [`super::distilbert`]) and is listed once in
//! [`super::registry`]; an [`Architecture`] is a model folder's handle to its family.

use std::collections::HashMap;
use std::fmt;

use candle_core::Tensor;

use crate::error::Result;

use super::backbone::Backbone;
use super::classifier::ClassifierSpec;
use super::config::HeadActivation;
use super::folder::ModelFolder;
use super::model_config::ModelConfig;
use super::params::Params;
use super::preprocess::Preprocessor;

/// Builds a family's backbone from the checkpoint's `params`.
pub type Build =
    fn(&mut Params, &ModelConfig, Architecture, &ClassifierSpec) -> Result<Box<dyn Backbone>>;

/// How a family's checkpoint names differ from the canonical (BERT-layout) names its
/// backbone loads, both ways.
#[derive(Debug, Clone, Copy)]
pub struct Renames {
    /// A checkpoint's weights (its prefix dropped) under the canonical names.
    pub to_canonical: fn(HashMap<String, Tensor>) -> HashMap<String, Tensor>,
    /// A canonical name under the family's own, for saving.
    pub from_canonical: fn(&str) -> String,
}

/// One model family.
#[derive(Debug)]
pub struct Family {
    /// A short name, for messages and tests (`bert`).
    pub name: &'static str,
    /// The `model_type` values of its `config.json`.
    pub model_types: &'static [&'static str],
    /// The prefix of encoder weights in a `…ForSequenceClassification` checkpoint.
    pub weight_prefix: &'static str,
    /// The name transformers gives the model with a classification head (`architectures`).
    pub classifier_name: &'static str,
    /// Whether the model adds segment (token type) embeddings.
    pub has_segments: bool,
    /// The activation of the hidden layer of the model's own classification head.
    pub head_activation: HeadActivation,
    /// Whether position ids start after the padding id (RoBERTa), not at 0.
    pub positions_after_padding: bool,
    /// How its weight names differ from the canonical ones, when they do.
    pub renames: Option<Renames>,
    /// Reads its `config.json`.
    pub read_config: fn(&std::path::Path) -> Result<ModelConfig>,
    /// How many blocks `--train-layers` counts in a model of this config.
    pub blocks: fn(&ModelConfig) -> usize,
    /// Its backbone.
    pub build: Build,
    /// Its preprocessor, from the model folder.
    pub preprocessor: fn(&ModelFolder) -> Result<Preprocessor>,
    /// The canonical name prefix of block `i`'s weights (what `--reinit-layers` forgets).
    pub block_prefix: fn(usize) -> String,
}

/// The family of a model folder, as its `config.json` names it.
#[derive(Clone, Copy)]
pub struct Architecture(&'static Family);

impl Architecture {
    /// The handle of `family`.
    pub const fn of(family: &'static Family) -> Architecture {
        Architecture(family)
    }

    /// The family's record.
    pub fn family(self) -> &'static Family {
        self.0
    }

    /// The family's short name (`bert`, `roberta`, `distilbert`).
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// The prefix of encoder weights in a `…ForSequenceClassification` checkpoint.
    pub fn weight_prefix(self) -> &'static str {
        self.0.weight_prefix
    }

    /// Whether the model adds segment (token type) embeddings.
    pub fn has_segments(self) -> bool {
        self.0.has_segments
    }

    /// The activation of the head's hidden layer in the model's own classification head:
    /// tanh in RoBERTa's, ReLU in DistilBERT's `pre_classifier`.
    pub fn head_activation(self) -> HeadActivation {
        self.0.head_activation
    }

    /// The name transformers gives the model with a classification head.
    pub fn classifier_name(self) -> &'static str {
        self.0.classifier_name
    }

    /// The first position id: RoBERTa skips the ids up to and including the padding id.
    pub fn position_offset(self, pad_token_id: usize) -> usize {
        if self.0.positions_after_padding {
            pad_token_id + 1
        } else {
            0
        }
    }

    /// How the family's weight names differ from the canonical ones, when they do.
    pub fn renames(self) -> Option<Renames> {
        self.0.renames
    }
}

impl PartialEq for Architecture {
    fn eq(&self, other: &Architecture) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Architecture {}

impl fmt::Debug for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Architecture({})", self.0.name)
    }
}
