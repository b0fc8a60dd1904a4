//! DistilBERT (Sanh et al. 2019, Hugging Face's `modeling_distilbert.py`): BERT's
//! post-norm layer with other weight names, no segment embeddings, and a classification
//! head of `pre_classifier` (dense + ReLU) and `classifier` on the first token's state.
//!
//! The encoder is [`super::bert::Encoder`] itself: checkpoints are read by renaming their
//! weights to BERT's names (`transformer.layer.N.attention.q_lin` is
//! `encoder.layer.N.attention.self.query`, …) and saved by renaming them back, so layer
//! names (`--train-layers`, drift, the frozen-prefix cache) are the same for both.

use std::collections::HashMap;

use candle_core::Tensor;

use super::config::HeadActivation;
use super::family::{Family, Renames};
use super::model_config::ModelConfig;
use super::text_encoder;

/// DistilBERT: BERT's layer under other names, no segment embeddings, a ReLU head.
pub const DISTILBERT: Family = Family {
    name: "distilbert",
    model_types: &["distilbert"],
    weight_prefix: "distilbert",
    classifier_name: "DistilBertForSequenceClassification",
    has_segments: false,
    head_activation: HeadActivation::Relu,
    positions_after_padding: false,
    renames: Some(Renames {
        to_canonical: to_bert_names,
        from_canonical: from_bert_name,
    }),
    read_config: ModelConfig::read_text,
    blocks: text_encoder::layers,
    build: text_encoder::build,
    preprocessor: text_encoder::tokenizer,
    block_prefix: text_encoder::block_prefix,
};

/// Per-layer weight names, DistilBERT's then BERT's (after `transformer.layer.N.` and
/// `encoder.layer.N.`).
const LAYER_NAMES: [(&str, &str); 8] = [
    ("attention.q_lin", "attention.self.query"),
    ("attention.k_lin", "attention.self.key"),
    ("attention.v_lin", "attention.self.value"),
    ("attention.out_lin", "attention.output.dense"),
    ("sa_layer_norm", "attention.output.LayerNorm"),
    ("ffn.lin1", "intermediate.dense"),
    ("ffn.lin2", "output.dense"),
    ("output_layer_norm", "output.LayerNorm"),
];

/// The head's hidden layer and output, DistilBERT's names then goodfit's.
const HEAD_NAMES: [(&str, &str); 2] = [
    ("pre_classifier", "classifier.dense"),
    ("classifier", "classifier.out_proj"),
];

/// `name`, a weight of layer N under `layer_from` (`transformer.layer.` or
/// `encoder.layer.`), under `layer_to` with its part renamed to BERT's names (`to_bert`) or
/// DistilBERT's; `None` for any other weight.
fn rename(name: &str, layer_from: &str, layer_to: &str, to_bert: bool) -> Option<String> {
    let rest = name.strip_prefix(layer_from)?;
    let (index, rest) = rest.split_once('.')?;
    index.parse::<usize>().ok()?;
    LAYER_NAMES.iter().find_map(|&(distil, bert)| {
        let (from, to) = if to_bert {
            (distil, bert)
        } else {
            (bert, distil)
        };
        let suffix = rest.strip_prefix(from)?.strip_prefix('.')?;
        Some(format!("{layer_to}{index}.{to}.{suffix}"))
    })
}

/// A DistilBERT checkpoint's weights (its `distilbert.` prefix dropped) under the names
/// goodfit's encoder and head load. `classifier.*` is the head's output layer when the
/// checkpoint has a `pre_classifier` (a `DistilBertForSequenceClassification`), else the
/// whole head.
pub fn to_bert_names(tensors: HashMap<String, Tensor>) -> HashMap<String, Tensor> {
    let has_hidden = tensors.keys().any(|n| n.starts_with("pre_classifier."));
    tensors
        .into_iter()
        .map(|(name, tensor)| {
            if let Some(bert) = rename(&name, "transformer.layer.", "encoder.layer.", true) {
                return (bert, tensor);
            }
            if has_hidden {
                for (distil, ours) in HEAD_NAMES {
                    if let Some(suffix) =
                        name.strip_prefix(distil).and_then(|s| s.strip_prefix('.'))
                    {
                        return (format!("{ours}.{suffix}"), tensor);
                    }
                }
            }
            (name, tensor)
        })
        .collect()
}

/// The DistilBERT name of a weight goodfit names `name` (the inverse of
/// [`to_bert_names`]), without the `distilbert.` prefix.
pub fn from_bert_name(name: &str) -> String {
    if let Some(distil) = rename(name, "encoder.layer.", "transformer.layer.", false) {
        return distil;
    }
    for (distil, ours) in HEAD_NAMES {
        if let Some(suffix) = name.strip_prefix(ours).and_then(|s| s.strip_prefix('.')) {
            return format!("{distil}.{suffix}");
        }
    }
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn names_map_to_bert_and_back() {
        let t = Tensor::zeros(1, candle_core::DType::F32, &Device::Cpu).unwrap();
        let names = [
            "embeddings.word_embeddings.weight",
            "embeddings.LayerNorm.bias",
            "transformer.layer.0.attention.q_lin.weight",
            "transformer.layer.11.sa_layer_norm.bias",
            "transformer.layer.3.ffn.lin2.weight",
            "transformer.layer.3.output_layer_norm.weight",
            "pre_classifier.weight",
            "classifier.bias",
        ];
        let mapped = to_bert_names(names.iter().map(|n| (n.to_string(), t.clone())).collect());
        for expected in [
            "embeddings.word_embeddings.weight",
            "encoder.layer.0.attention.self.query.weight",
            "encoder.layer.11.attention.output.LayerNorm.bias",
            "encoder.layer.3.output.dense.weight",
            "encoder.layer.3.output.LayerNorm.weight",
            "classifier.dense.weight",
            "classifier.out_proj.bias",
        ] {
            assert!(
                mapped.contains_key(expected),
                "{expected}: {:?}",
                mapped.keys()
            );
        }
        for name in names {
            let bert = to_bert_names(HashMap::from([
                (name.to_string(), t.clone()),
                ("pre_classifier.bias".to_string(), t.clone()),
            ]));
            let back: Vec<String> = bert.keys().map(|n| from_bert_name(n)).collect();
            assert!(back.contains(&name.to_string()), "{name}: {back:?}");
        }
        // A head without a hidden layer keeps its name.
        let plain = to_bert_names(HashMap::from([("classifier.weight".to_string(), t)]));
        assert!(plain.contains_key("classifier.weight"));
        assert_eq!(from_bert_name("classifier.weight"), "classifier.weight");
    }
}
