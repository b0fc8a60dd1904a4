//! The seam between a pretrained model and the rest of goodfit.
//!
//! A [`Backbone`] is the pretrained part of a classifier: it turns a batch of [`BatchInputs`]
//! into one feature vector per example, which the head (goodfit's own, [`super::head`])
//! turns into logits. Training, the frozen-prefix cache, the optimizer's parameter groups
//! and the weight statistics reach the model only through this trait, so a new model
//! family is a backbone file and a line in [`super::registry`]; the BERT family's is
//! [`super::text_encoder`].

use std::collections::BTreeMap;

use candle_core::Tensor;

use crate::error::Result;

use super::dropout::Mode;
use super::inputs::BatchInputs;

/// Where a weight sits in a classifier, from the input up: what its learning rate, its
/// unfreezing epoch and its statistics are grouped by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// Below the first block: a text encoder's embeddings, a CNN's stem.
    Stem,
    /// Block `i`, counted from the input (`--train-layers N` trains the top N).
    Block(usize),
    /// A pretrained layer the head reads through (BERT's pooler): it trains with the head,
    /// at the head's learning rate and from the first epoch.
    Neck,
    /// The classification head goodfit adds: new weights, no pretrained knowledge.
    Head,
}

/// A weight's place: the layer it belongs to, by name (`encoder.layer.3`, `classifier`),
/// and that layer's [`Part`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The layer's name, as the weight statistics and the report show it.
    pub layer: String,
    /// Where the layer sits.
    pub part: Part,
    /// Whether weight decay applies to the weight (Hugging Face's rule exempts biases and
    /// normalisation weights).
    pub decays: bool,
}

impl Place {
    /// Whether the weight trains with the head (the head, or a [`Part::Neck`]).
    pub fn with_head(&self) -> bool {
        matches!(self.part, Part::Neck | Part::Head)
    }

    /// How many blocks the weight sits below `top`, the highest block that trains (the
    /// stem one step below block 0); 0 for the head's side or when no block trains.
    pub fn depth_below(&self, top: Option<usize>) -> usize {
        match (&self.part, top) {
            (Part::Block(i), Some(top)) => top.saturating_sub(*i),
            (Part::Stem, Some(top)) => top + 1,
            _ => 0,
        }
    }
}

/// The place of each of a classifier's weights, by name.
pub type Places = BTreeMap<String, Place>;

/// A pretrained model without its head.
///
/// Its frozen prefix — the stem and the bottom blocks that do not train — gives the same
/// output for the same input every epoch, so [`frozen_prefix`](Backbone::frozen_prefix)'s
/// output can be computed once per example and kept; with nothing trainable at all,
/// [`frozen_features`](Backbone::frozen_features) keeps even less.
pub trait Backbone: Send + Sync {
    /// The width of the feature vector the head reads.
    fn feature_size(&self) -> usize;

    /// Features `[batch, feature_size]` of `inputs`, training in `mode`.
    fn features(&self, inputs: &BatchInputs, mode: &mut Mode) -> Result<Tensor>;

    /// The blocks (as `--train-layers` counts them) at the bottom that never train, with a
    /// frozen stem under them; 0 when the stem trains.
    fn frozen_blocks(&self) -> usize;

    /// What the backbone computes for each example when nothing in it trains, `[batch, d]`:
    /// [`features_from_frozen`](Backbone::features_from_frozen) turns a cached row of it
    /// into features.
    fn frozen_features(&self, inputs: &BatchInputs) -> Result<Tensor>;

    /// Features from [`frozen_features`](Backbone::frozen_features)' rows (for BERT's
    /// pooler, the trainable pooler on the cached `[CLS]` state).
    fn features_from_frozen(&self, frozen: &Tensor) -> Result<Tensor>;

    /// The output of the frozen prefix for each example of `inputs`, one tensor each, cut to
    /// the example's own size (a text's own tokens, not the batch's padding).
    fn frozen_prefix(&self, inputs: &BatchInputs) -> Result<Vec<Tensor>>;

    /// Features from [`frozen_prefix`](Backbone::frozen_prefix)'s outputs of the examples of
    /// `inputs` (the same batch, tokenised again for its mask): only what trains runs.
    fn features_from_prefix(
        &self,
        prefix: &[&Tensor],
        inputs: &BatchInputs,
        mode: &mut Mode,
    ) -> Result<Tensor>;

    /// The place of the backbone's weight `name` (its own names, as saved).
    fn place(&self, name: &str) -> Place;

    /// How many numbers [`frozen_prefix`](Backbone::frozen_prefix) keeps for an example of
    /// `units` units (tokens), to size the cache before filling it.
    fn prefix_floats(&self, units: usize) -> usize;

    /// The backbone's buffers by name — state that is not trained but is saved and restored
    /// with the weights (BatchNorm's running statistics); none by default.
    fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        Ok(Vec::new())
    }

    /// Sets the buffers found in `values` (by the names [`buffers`](Backbone::buffers)
    /// gives; other names are ignored): restoring the best epoch or a checkpoint.
    fn set_buffers(&self, values: &BTreeMap<String, Tensor>) -> Result<()> {
        let _ = values;
        Ok(())
    }

    /// Starts (`on`) or ends recomputing the buffers that training passes update from
    /// scratch, each pass weighing equally (after weight averaging, whose averaged weights
    /// no running statistic matches); nothing by default.
    fn refresh_buffers(&self, on: bool) -> Result<()> {
        let _ = on;
        Ok(())
    }
}
