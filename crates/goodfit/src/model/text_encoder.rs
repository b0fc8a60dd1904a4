//! The BERT family (BERT, MiniLM, RoBERTa, DistilBERT) as a [`Backbone`]: the encoder, its
//! pooling and, for `pooler` pooling, BERT's pooler; and the records of the BERT and RoBERTa
//! families (DistilBERT's is in [`super::distilbert`]).

use candle_core::Tensor;

use crate::error::{Error, Result};

use super::backbone::{Backbone, Part, Place};
use super::bert::{Encoder, TrainLayers};
use super::classifier::{head_place, ClassifierSpec};
use super::config::{EncoderConfig, HeadActivation};
use super::dropout::Mode;
use super::family::{Architecture, Family};
use super::folder::ModelFolder;
use super::inputs::BatchInputs;
use super::linear::Linear;
use super::model_config::ModelConfig;
use super::params::Params;
use super::pooling::Pooling;
use super::preprocess::Preprocessor;

/// BERT and its distillations with the same layout (MiniLM, TinyBERT, …).
pub const BERT: Family = Family {
    name: "bert",
    model_types: &["bert"],
    weight_prefix: "bert",
    classifier_name: "BertForSequenceClassification",
    has_segments: true,
    head_activation: HeadActivation::Tanh,
    positions_after_padding: false,
    renames: None,
    read_config: ModelConfig::read_text,
    blocks: layers,
    build,
    preprocessor: tokenizer,
    block_prefix,
};

/// RoBERTa, XLM-RoBERTa and CamemBERT: BERT's layout, positions counted from
/// `pad_token_id + 1`.
pub const ROBERTA: Family = Family {
    name: "roberta",
    model_types: &["roberta", "xlm-roberta", "camembert"],
    weight_prefix: "roberta",
    classifier_name: "RobertaForSequenceClassification",
    has_segments: true,
    head_activation: HeadActivation::Tanh,
    positions_after_padding: true,
    renames: None,
    read_config: ModelConfig::read_text,
    blocks: layers,
    build,
    preprocessor: tokenizer,
    block_prefix,
};

/// The encoder layers of a text encoder's config (0 for any other).
pub fn layers(config: &ModelConfig) -> usize {
    config.text().map_or(0, |c| c.num_hidden_layers)
}

/// The BERT family's backbone, as a [`Family`] builds it.
pub fn build(
    params: &mut Params,
    config: &ModelConfig,
    architecture: Architecture,
    spec: &ClassifierSpec,
) -> Result<Box<dyn Backbone>> {
    Ok(Box::new(TextEncoder::build(
        params,
        config.text()?,
        architecture,
        spec.pooling,
        spec.train_layers,
        spec.dropout,
    )?))
}

/// The BERT family's preprocessor: the folder's tokenizer.
pub fn tokenizer(folder: &ModelFolder) -> Result<Preprocessor> {
    Preprocessor::text(&folder.dir)
}

/// A BERT-family encoder with the pooling that makes one vector per text.
pub struct TextEncoder {
    encoder: Encoder,
    /// BERT's pooler, for `pooler` pooling (it trains with the head, as in
    /// `BertForSequenceClassification`).
    pooler: Option<Linear>,
    pooling: Pooling,
}

impl TextEncoder {
    /// The encoder of `config` from `params`, training the layers `train_layers` says, with
    /// `dropout` (when given) in the layers that train.
    pub fn build(
        params: &mut Params,
        config: &EncoderConfig,
        architecture: Architecture,
        pooling: Pooling,
        train_layers: TrainLayers,
        dropout: Option<f64>,
    ) -> Result<TextEncoder> {
        if let TrainLayers::Top(n) = train_layers {
            if n > config.num_hidden_layers {
                return Err(Error::Invalid(format!(
                    "--train-layers {n} is more than the model's {} layers (use `all` to train everything)",
                    config.num_hidden_layers
                )));
            }
        }
        let encoder = Encoder::load(params, config, architecture, train_layers, dropout)?;
        let h = config.hidden_size;
        let pooler = match pooling {
            Pooling::Pooler => Some(Linear::load(params, "pooler.dense", h, h, true)?),
            _ => None,
        };
        Ok(TextEncoder {
            encoder,
            pooler,
            pooling,
        })
    }
}

/// The token ids and mask of text inputs.
fn text(inputs: &BatchInputs) -> Result<(&Tensor, &Tensor)> {
    match inputs {
        BatchInputs::Text { ids, mask } => Ok((ids, mask)),
        BatchInputs::Image { .. } => Err(Error::Invalid(
            "a text encoder was given images: use an image model for image data".into(),
        )),
    }
}

/// The name prefix of encoder layer `index`'s weights.
pub fn block_prefix(index: usize) -> String {
    format!("encoder.layer.{index}.")
}

/// Where a BERT-family weight (by its canonical, BERT-layout name) sits; the head's
/// weights as [`head_place`] places them.
pub fn place(name: &str) -> Place {
    if let Some(head) = head_place(name) {
        return head;
    }
    let parts: Vec<&str> = name.split('.').collect();
    let (layer, part) = match parts.as_slice() {
        ["encoder", "layer", n, ..] => (
            format!("encoder.layer.{n}"),
            n.parse().map_or(Part::Stem, Part::Block),
        ),
        ["pooler", ..] => ("pooler".to_string(), Part::Neck),
        [first, ..] => (first.to_string(), Part::Stem),
        [] => (String::new(), Part::Stem),
    };
    Place {
        layer,
        part,
        decays: hf_weight_decay_applies(name),
    }
}

/// Whether transformers' `Trainer` would apply weight decay to a parameter of this
/// name: everything except biases and normalisation weights. This transcribes the name
/// patterns of `Trainer.get_decay_parameter_names` (`bias`, `layernorm`, `rmsnorm`, a
/// path segment `norm`, a segment ending in `_norm`, all matched on the lower-cased
/// name); transformers additionally exempts any `nn.LayerNorm` module whatever its
/// name, which candle models cannot express, but BERT-family weights name theirs
/// `LayerNorm`/`layer_norm` anyway.
pub fn hf_weight_decay_applies(name: &str) -> bool {
    let lower = name.to_lowercase();
    let forbidden = lower.contains("bias")
        || lower.contains("layernorm")
        || lower.contains("rmsnorm")
        || lower
            .split('.')
            .any(|seg| seg == "norm" || seg.ends_with("_norm"));
    !forbidden
}

impl Backbone for TextEncoder {
    fn feature_size(&self) -> usize {
        self.encoder.config().hidden_size
    }

    fn features(&self, inputs: &BatchInputs, mode: &mut Mode) -> Result<Tensor> {
        let (ids, mask) = text(inputs)?;
        let hidden = self.encoder.forward(ids, mask, mode)?;
        self.pooling.apply(&hidden, mask, self.pooler.as_ref())
    }

    fn frozen_blocks(&self) -> usize {
        self.encoder.frozen_layers()
    }

    /// The pooled vector, or for `pooler` pooling the `[CLS]` state (the pooler trains
    /// with the head).
    fn frozen_features(&self, inputs: &BatchInputs) -> Result<Tensor> {
        let (ids, mask) = text(inputs)?;
        let hidden = self.encoder.forward(ids, mask, &mut Mode::eval())?;
        match self.pooling {
            Pooling::Pooler => Ok(hidden.narrow(1, 0, 1)?.squeeze(1)?.contiguous()?),
            pooling => pooling.apply(&hidden, mask, None),
        }
    }

    fn features_from_frozen(&self, frozen: &Tensor) -> Result<Tensor> {
        Ok(match (&self.pooler, self.pooling) {
            (Some(pooler), Pooling::Pooler) => pooler.forward(frozen)?.tanh()?,
            _ => frozen.clone(),
        })
    }

    /// Per text, the hidden states `[tokens, hidden]` of its own tokens after the frozen
    /// bottom layers.
    fn frozen_prefix(&self, inputs: &BatchInputs) -> Result<Vec<Tensor>> {
        let (ids, mask) = text(inputs)?;
        let hidden = self.encoder.forward_frozen(ids, mask)?;
        let lengths: Vec<f32> = mask.sum(1)?.to_vec1()?;
        lengths
            .iter()
            .enumerate()
            .map(|(i, &length)| {
                // A compact copy of the example's own tokens: `copy()` would clone the
                // whole batch's storage for each example, and a view would keep it alive.
                let own = hidden.get(i)?.narrow(0, 0, (length as usize).max(1))?;
                Ok(own.force_contiguous()?.detach())
            })
            .collect()
    }

    /// The states padded to the batch's length (padding states may be anything: nothing
    /// attends to them and pooling skips them), then the layers that train.
    fn features_from_prefix(
        &self,
        prefix: &[&Tensor],
        inputs: &BatchInputs,
        mode: &mut Mode,
    ) -> Result<Tensor> {
        let (_, mask) = text(inputs)?;
        let longest = mask.dim(1)?;
        let padded = prefix
            .iter()
            .map(|state| Ok(state.pad_with_zeros(0, 0, longest - state.dim(0)?)?))
            .collect::<Result<Vec<Tensor>>>()?;
        let hidden = self
            .encoder
            .forward_trainable(&Tensor::stack(&padded, 0)?, mask, mode)?;
        self.pooling.apply(&hidden, mask, self.pooler.as_ref())
    }

    fn place(&self, name: &str) -> Place {
        place(name)
    }

    /// A hidden state per token.
    fn prefix_floats(&self, units: usize) -> usize {
        units * self.encoder.config().hidden_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hugging_face_decay_names() {
        for name in [
            "bert.encoder.layer.0.attention.self.query.weight",
            "classifier.weight",
            "bert.embeddings.word_embeddings.weight",
            "normalizer.weight",
        ] {
            assert!(hf_weight_decay_applies(name), "{name}");
        }
        for name in [
            "bert.encoder.layer.0.attention.self.query.bias",
            "bert.embeddings.LayerNorm.weight",
            "distilbert.transformer.layer.0.sa_layer_norm.weight",
            "model.layers.0.attn_norm.weight",
            "model.final_norm.weight",
            "model.norm.weight",
            "encoder.rmsnorm.weight",
        ] {
            assert!(!hf_weight_decay_applies(name), "{name}");
        }
    }

    #[test]
    fn weights_are_placed_by_their_bert_names() {
        let layer = place("encoder.layer.3.attention.self.query.weight");
        assert_eq!(
            (layer.layer.as_str(), &layer.part, layer.decays),
            ("encoder.layer.3", &Part::Block(3), true)
        );
        let norm = place("embeddings.LayerNorm.weight");
        assert_eq!(
            (norm.layer.as_str(), &norm.part, norm.decays),
            ("embeddings", &Part::Stem, false)
        );
        assert_eq!(place("pooler.dense.bias").part, Part::Neck);
        assert!(place("pooler.dense.weight").with_head());
        assert_eq!(place("classifier.out.weight").part, Part::Head);
        // The stem sits one step below block 0; the head's side none.
        assert_eq!(layer.depth_below(Some(5)), 2);
        assert_eq!(norm.depth_below(Some(5)), 6);
        assert_eq!(place("classifier.weight").depth_below(Some(5)), 0);
    }
}
