//! Where a fine-tune's weights start besides the pretrained checkpoint: a head trained
//! earlier on the frozen encoder (LP-FT, `--init-head`) and freshly initialised top layers
//! (`--reinit-layers`).
//!
//! LP-FT (Kumar et al. 2022, "Fine-Tuning can Distort Pretrained Features and Underperform
//! Out-of-Distribution"): a random head sends large, noisy gradients into the pretrained
//! layers during the first steps; a head already fitted on the frozen features does not.
//! Re-initialising the top layers (Zhang et al. 2021, "Revisiting Few-sample BERT
//! Fine-tuning") discards pretraining-specific weights nearest the output, which helped
//! BERT on small GLUE sets; the new weights follow BERT's initialisation (normal 0.02,
//! LayerNorm ones, biases zero), as `BertPreTrainedModel._init_weights` does.

use std::path::Path;

use candle_core::Device;

use crate::data::LabelMap;
use crate::error::{Error, Position, Result};
use crate::model::{registry, ClassifierInfo, ModelFolder, Params, Pooling, INFO_FILE};

use super::decide::read_json;

use super::config::TrainConfig;

/// Applies `config.init_head` and `config.reinit_layers` to `params`, the store of a
/// classifier about to be built for `labels` on the model in `folder`.
pub fn apply(
    params: &mut Params,
    config: &TrainConfig,
    labels: &LabelMap,
    folder: &ModelFolder,
    device: &Device,
) -> Result<()> {
    let layers = registry::blocks(folder);
    if let Some(dir) = &config.init_head {
        for (name, tensor) in head_weights(dir, config, labels, device)? {
            params.set_pretrained(name, tensor);
        }
    }
    if config.reinit_layers > layers {
        return Err(Error::Invalid(format!(
            "--reinit-layers {} is more than the model's {layers} layers",
            config.reinit_layers
        )));
    }
    for index in layers - config.reinit_layers..layers {
        params.forget_pretrained(&registry::block_prefix(folder.architecture, index));
    }
    Ok(())
}

/// The head weights (`classifier.*`, and the pooler's with `pooler` pooling) of the saved
/// classifier in `dir`, after checking that it fits the classifier `config` builds.
fn head_weights(
    dir: &Path,
    config: &TrainConfig,
    labels: &LabelMap,
    device: &Device,
) -> Result<Vec<(String, candle_core::Tensor)>> {
    let refuse = |why: String| {
        Error::input(
            Position::file(dir),
            format!("--init-head cannot start from this folder: {why}"),
        )
    };
    let info_path = dir.join(INFO_FILE);
    if !info_path.is_file() {
        return Err(refuse(format!(
            "it has no {INFO_FILE} (pass the model folder of a goodfit run)"
        )));
    }
    let info: ClassifierInfo = read_json(&info_path)?;
    if info.labels != labels.labels() {
        return Err(refuse(
            "its classes differ from the training data's (or come in another order)".into(),
        ));
    }
    if info.pooling != config.pooling || info.head_hidden != config.head_hidden {
        return Err(refuse(format!(
            "its head has {} pooling and {}, this run {} pooling and {}",
            info.pooling,
            hidden(info.head_hidden),
            config.pooling,
            hidden(config.head_hidden)
        )));
    }
    let folder = ModelFolder::open(dir)?;
    let mut saved = Params::load_checkpoint(&folder.weights, folder.architecture, device, 0)?;
    let mut names: Vec<String> = vec!["classifier".into()];
    if config.pooling == Pooling::Pooler {
        names.push("pooler.".into());
    }
    let weights = saved.take_pretrained(|name| names.iter().any(|p| name.starts_with(p)));
    if weights.is_empty() {
        return Err(refuse("its weights hold no head (`classifier.*`)".into()));
    }
    Ok(weights)
}

fn hidden(width: Option<usize>) -> String {
    width.map_or("a linear head".into(), |w| format!("a hidden layer of {w}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Label;
    use crate::model::tiny::write_tiny_bert;

    #[test]
    fn reinit_drops_the_top_layers_weights_only() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny_bert(dir.path(), 1).unwrap();
        let folder = ModelFolder::open(dir.path()).unwrap();
        let prefix = folder.architecture.weight_prefix();
        let mut params = Params::load(&folder.weights, prefix, &Device::Cpu, 0).unwrap();
        let config = TrainConfig {
            reinit_layers: 1,
            ..TrainConfig::default()
        };
        let labels = LabelMap::from_ordered(vec![Label::parse("a"), Label::parse("b")]);
        apply(&mut params, &config, &labels, &folder, &Device::Cpu).unwrap();
        assert!(params.has_pretrained("encoder.layer.0.output.dense.weight"));
        assert!(!params.has_pretrained("encoder.layer.1.output.dense.weight"));
        let too_many = TrainConfig {
            reinit_layers: 3,
            ..TrainConfig::default()
        };
        let error = apply(&mut params, &too_many, &labels, &folder, &Device::Cpu).unwrap_err();
        assert!(error.to_string().contains("more than the model's 2 layers"));
    }
}
