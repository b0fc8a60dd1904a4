//! Which family reads which model folder, found by the `model_type` of the folder's
//! `config.json`: one line per family (its record lives in its own file, see
//! [`super::family`]).

use crate::error::Result;

use super::backbone::Backbone;
use super::classifier::ClassifierSpec;

use super::distilbert;
use super::efficientnet;
use super::family::{Architecture, Family};
use super::folder::ModelFolder;
use super::model_config::ModelConfig;
use super::params::Params;
use super::preprocess::Preprocessor;
use super::resnet;
use super::text_encoder;

/// Every family, in the order error messages list them.
const FAMILIES: &[&Family] = &[
    &text_encoder::BERT,
    &text_encoder::ROBERTA,
    &distilbert::DISTILBERT,
    &efficientnet::EFFICIENTNET_LITE0,
    &resnet::RESNET18,
    &resnet::RESNET34,
    &resnet::RESNET50,
    &resnet::RESNET101,
    &resnet::RESNET152,
];

/// The architecture of a `config.json` whose `model_type` is `model_type`, if goodfit has
/// its family.
pub fn architecture(model_type: &str) -> Option<Architecture> {
    FAMILIES
        .iter()
        .find(|f| f.model_types.contains(&model_type))
        .map(|f| Architecture::of(f))
}

/// The architecture the `model_type` of the config at `path` names, or an input error at
/// that field listing the supported ones.
pub fn require(model_type: &str, path: &std::path::Path) -> Result<Architecture> {
    architecture(model_type).ok_or_else(|| {
        crate::error::Error::input(
            crate::error::Position::file(path).with_field("model_type"),
            format!(
                "unsupported architecture '{model_type}'; goodfit fine-tunes {}",
                supported()
            ),
        )
    })
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
    (folder.architecture.family().preprocessor)(folder)
}

/// The name prefix of the weights of block `index` (counted from the input) of a model of
/// `architecture`.
pub fn block_prefix(architecture: Architecture, index: usize) -> String {
    (architecture.family().block_prefix)(index)
}

/// How many blocks `--train-layers` counts in the model of `folder`.
pub fn blocks(folder: &ModelFolder) -> usize {
    (folder.architecture.family().blocks)(&folder.config)
}

/// The backbone of `architecture` from `params`, shaped by `spec`.
pub fn backbone(
    params: &mut Params,
    config: &ModelConfig,
    architecture: Architecture,
    spec: &ClassifierSpec,
) -> Result<Box<dyn Backbone>> {
    (architecture.family().build)(params, config, architecture, spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_have_unique_names_and_model_types() {
        let mut names: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FAMILIES.len());
        let mut types: Vec<&str> = FAMILIES
            .iter()
            .flat_map(|f| f.model_types.iter().copied())
            .collect();
        let all = types.len();
        types.sort_unstable();
        types.dedup();
        assert_eq!(types.len(), all);
        let roberta = architecture("xlm-roberta").unwrap();
        assert_eq!(roberta.name(), "roberta");
        assert_eq!(roberta.position_offset(1), 2);
        assert_eq!(architecture("bert").unwrap().position_offset(0), 0);
        assert!(architecture("distilbert").unwrap().renames().is_some());
        assert_eq!(architecture("gpt2"), None);
        assert!(supported().contains("distilbert"));
    }
}
