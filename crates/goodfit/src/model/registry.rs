//! Which backbone reads which model folder: one line per model family, found by the
//! `model_type` of the folder's `config.json`.

use crate::error::Result;

use super::backbone::Backbone;
use super::classifier::ClassifierSpec;
use super::config::{Architecture, EncoderConfig};
use super::folder::ModelFolder;
use super::params::Params;
use super::preprocess::Preprocessor;
use super::text_encoder::{self, TextEncoder};

/// Builds a family's backbone from the checkpoint's `params`.
type Build =
    fn(&mut Params, &EncoderConfig, Architecture, &ClassifierSpec) -> Result<Box<dyn Backbone>>;

/// A model family goodfit fine-tunes.
struct Family {
    /// The `model_type` values of its `config.json`.
    model_types: &'static [&'static str],
    /// Its architecture (weight names, embeddings, head activation).
    architecture: Architecture,
    /// Its backbone.
    build: Build,
    /// Its preprocessor, from the model folder.
    preprocessor: fn(&ModelFolder) -> Result<Preprocessor>,
    /// The name prefix of block `i`'s weights (what `--reinit-layers` forgets).
    block_prefix: fn(usize) -> String,
}

/// Every family, in the order error messages list them.
const FAMILIES: &[Family] = &[
    Family {
        model_types: &["bert"],
        architecture: Architecture::Bert,
        build: text_backbone,
        preprocessor: tokenizer,
        block_prefix: text_encoder::block_prefix,
    },
    Family {
        model_types: &["roberta", "xlm-roberta", "camembert"],
        architecture: Architecture::Roberta,
        build: text_backbone,
        preprocessor: tokenizer,
        block_prefix: text_encoder::block_prefix,
    },
    Family {
        model_types: &["distilbert"],
        architecture: Architecture::DistilBert,
        build: text_backbone,
        preprocessor: tokenizer,
        block_prefix: text_encoder::block_prefix,
    },
];

/// The BERT family's preprocessor: the folder's tokenizer.
fn tokenizer(folder: &ModelFolder) -> Result<Preprocessor> {
    Preprocessor::text(&folder.dir)
}

/// The BERT family's backbone.
fn text_backbone(
    params: &mut Params,
    config: &EncoderConfig,
    architecture: Architecture,
    spec: &ClassifierSpec,
) -> Result<Box<dyn Backbone>> {
    Ok(Box::new(TextEncoder::build(
        params,
        config,
        architecture,
        spec.pooling,
        spec.train_layers,
        spec.dropout,
    )?))
}

/// The architecture of a `config.json` whose `model_type` is `model_type`, if goodfit has
/// its family.
pub fn architecture(model_type: &str) -> Option<Architecture> {
    FAMILIES
        .iter()
        .find(|f| f.model_types.contains(&model_type))
        .map(|f| f.architecture)
}

/// The `model_type` values goodfit accepts, for error messages.
pub fn supported() -> String {
    FAMILIES
        .iter()
        .flat_map(|f| f.model_types.iter().copied())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The preprocessor of the model in `folder`.
pub fn preprocessor(folder: &ModelFolder) -> Result<Preprocessor> {
    (family(folder.architecture).preprocessor)(folder)
}

/// The name prefix of the weights of block `index` (counted from the input) of a model of
/// `architecture`.
pub fn block_prefix(architecture: Architecture, index: usize) -> String {
    (family(architecture).block_prefix)(index)
}

/// The family of `architecture`.
fn family(architecture: Architecture) -> &'static Family {
    FAMILIES
        .iter()
        .find(|f| f.architecture == architecture)
        .expect("every architecture has a family")
}

/// The backbone of `architecture` from `params`, shaped by `spec`.
pub fn backbone(
    params: &mut Params,
    config: &EncoderConfig,
    architecture: Architecture,
    spec: &ClassifierSpec,
) -> Result<Box<dyn Backbone>> {
    (family(architecture).build)(params, config, architecture, spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_architecture_has_one_family_and_model_types_are_unique() {
        for architecture in [
            Architecture::Bert,
            Architecture::Roberta,
            Architecture::DistilBert,
        ] {
            let families = FAMILIES
                .iter()
                .filter(|f| f.architecture == architecture)
                .count();
            assert_eq!(families, 1, "{architecture:?}");
        }
        let mut types: Vec<&str> = FAMILIES
            .iter()
            .flat_map(|f| f.model_types.iter().copied())
            .collect();
        let all = types.len();
        types.sort_unstable();
        types.dedup();
        assert_eq!(types.len(), all);
        assert_eq!(architecture("xlm-roberta"), Some(Architecture::Roberta));
        assert_eq!(architecture("gpt2"), None);
        assert!(supported().contains("distilbert"));
    }
}
