//! A text classifier: encoder, pooling and head.

use candle_core::Tensor;

use crate::error::{Error, Result};

use super::bert::{Encoder, TrainLayers};
use super::config::{Architecture, EncoderConfig};
use super::dropout::Mode;
use super::head::Head;
use super::linear::Linear;
use super::params::Params;
use super::pooling::Pooling;

/// The shape of a classifier on top of a pretrained encoder.
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

/// Encoder + pooling + head: token ids in, one logit per class out.
pub struct Classifier {
    encoder: Encoder,
    pooler: Option<Linear>,
    pooling: Pooling,
    head: Head,
}

impl Classifier {
    /// Builds the classifier, taking pretrained weights from `params` and initialising what
    /// the checkpoint lacks (the head; the pooler, when the checkpoint has none).
    pub fn build(
        params: &mut Params,
        config: &EncoderConfig,
        architecture: Architecture,
        spec: &ClassifierSpec,
    ) -> Result<Classifier> {
        if let TrainLayers::Top(n) = spec.train_layers {
            if n > config.num_hidden_layers {
                return Err(Error::Invalid(format!(
                    "--train-layers {n} is more than the model's {} layers (use `all` to train everything)",
                    config.num_hidden_layers
                )));
            }
        }
        if spec.classes < 2 {
            return Err(Error::Invalid(format!(
                "a classifier needs at least 2 classes, not {}",
                spec.classes
            )));
        }
        let encoder = Encoder::load(
            params,
            config,
            architecture,
            spec.train_layers,
            spec.dropout,
        )?;
        let h = config.hidden_size;
        // The pooler is part of the classification head in BertForSequenceClassification.
        let pooler = match spec.pooling {
            Pooling::Pooler => Some(Linear::load(params, "pooler.dense", h, h, true)?),
            _ => None,
        };
        let dropout = spec.dropout.unwrap_or(config.hidden_dropout_prob);
        let head = Head::load(
            params,
            h,
            spec.head_hidden,
            spec.classes,
            dropout,
            architecture.head_activation(),
        )?;
        Ok(Classifier {
            encoder,
            pooler,
            pooling: spec.pooling,
            head,
        })
    }

    /// Logits `[batch, classes]` for token ids `[batch, seq]` (u32) and mask `[batch, seq]` (f32).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor, mode: &mut Mode) -> Result<Tensor> {
        let pooled = self.embed(ids, mask, mode)?;
        self.head.forward(&pooled, mode)
    }

    /// The pooled vector of each text `[batch, hidden]`, before the head.
    pub fn embed(&self, ids: &Tensor, mask: &Tensor, mode: &mut Mode) -> Result<Tensor> {
        let hidden = self.encoder.forward(ids, mask, mode)?;
        self.pooling.apply(&hidden, mask, self.pooler.as_ref())
    }

    /// What the frozen part computes for each text, `[batch, hidden]`: the pooled vector, or
    /// for `pooler` pooling the `[CLS]` state (the pooler trains with the head). Only
    /// meaningful when no encoder layer trains: then it can be computed once and cached.
    pub fn frozen_features(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let hidden = self.encoder.forward(ids, mask, &mut Mode::eval())?;
        match self.pooling {
            Pooling::Pooler => Ok(hidden.narrow(1, 0, 1)?.squeeze(1)?.contiguous()?),
            pooling => pooling.apply(&hidden, mask, None),
        }
    }

    /// The hidden states after the encoder's frozen bottom layers (see
    /// [`Encoder::frozen_layers`]), `[batch, seq, hidden]`: computed once, they let
    /// [`forward_from_frozen`](Self::forward_from_frozen) run only what trains.
    pub fn frozen_states(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        self.encoder.forward_frozen(ids, mask)
    }

    /// Logits from [`frozen_states`](Self::frozen_states) padded to `mask`'s length (padding
    /// states may be anything: nothing attends to them and pooling skips them).
    pub fn forward_from_frozen(
        &self,
        states: &Tensor,
        mask: &Tensor,
        mode: &mut Mode,
    ) -> Result<Tensor> {
        let pooled = self.pooled_from_frozen(states, mask, mode)?;
        self.head.forward(&pooled, mode)
    }

    /// The pooled vector `[batch, hidden]` from [`frozen_states`](Self::frozen_states): what
    /// [`forward_from_frozen`](Self::forward_from_frozen) gives the head.
    pub fn pooled_from_frozen(
        &self,
        states: &Tensor,
        mask: &Tensor,
        mode: &mut Mode,
    ) -> Result<Tensor> {
        let hidden = self.encoder.forward_trainable(states, mask, mode)?;
        self.pooling.apply(&hidden, mask, self.pooler.as_ref())
    }

    /// Logits from [`frozen_features`](Self::frozen_features): the trainable top only.
    pub fn forward_features(&self, features: &Tensor, mode: &mut Mode) -> Result<Tensor> {
        self.head
            .forward(&self.pooled_from_features(features)?, mode)
    }

    /// The pooled vector `[batch, hidden]` from [`frozen_features`](Self::frozen_features).
    pub fn pooled_from_features(&self, features: &Tensor) -> Result<Tensor> {
        Ok(match (&self.pooler, self.pooling) {
            (Some(pooler), Pooling::Pooler) => pooler.forward(features)?.tanh()?,
            _ => features.clone(),
        })
    }

    /// Logits `[batch, classes]` from pooled vectors: the head alone.
    pub fn classify(&self, pooled: &Tensor, mode: &mut Mode) -> Result<Tensor> {
        self.head.forward(pooled, mode)
    }

    /// The encoder.
    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    /// The pooling.
    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// The head's hidden width, if it has a hidden layer.
    pub fn head_hidden(&self) -> Option<usize> {
        self.head.hidden_width()
    }
}
