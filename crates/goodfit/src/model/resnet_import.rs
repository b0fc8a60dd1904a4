//! Turning a torchvision or timm ResNet state dict into a goodfit image model folder:
//! `config.json` and `model.safetensors`, the weights under the same names (torchvision's and
//! timm's are one naming: `conv1`, `bn1`, `layerS.R.convN`, `….downsample.0/1`, `fc`).
//!
//! The state dict may be a `.pth` (what `torch.save(model.state_dict())` and torchvision's
//! downloads are: its pickle is checked against the tensor allowlist of [`super::pth`],
//! never run) or a `.safetensors` file. Every entry is checked by name and shape against
//! the depth's layers; a `module.` prefix (`nn.DataParallel`) is dropped; `fc` may have any
//! number of classes (the fine-tune replaces it).

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};

use crate::error::{Error, Position, Result};

use super::image_config::write_image_folder;
use super::pth::read_state_dict;
use super::resnet::Depth;

/// ImageNet's per-channel mean and standard deviation, which torchvision's and timm's ResNet
/// weights were trained with.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// See [`IMAGENET_MEAN`].
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// The state-dict entries of a ResNet of `depth` without its classifier, in order, with
/// their shapes (BatchNorm's `num_batches_tracked` left out: it is dropped on import).
pub fn backbone_entries(depth: Depth) -> Vec<(String, Vec<usize>)> {
    let mut entries = Vec::new();
    for layer in depth.layers() {
        entries.push((format!("{}.weight", layer.conv), layer.shape.to_vec()));
        for part in ["weight", "bias", "running_mean", "running_var"] {
            entries.push((format!("{}.{part}", layer.bn), vec![layer.shape[0]]));
        }
    }
    entries
}

/// Reads the state dict at `path`: safetensors by its extension, else a `.pth`.
fn read(path: &Path) -> Result<Vec<(String, Tensor)>> {
    let is_safetensors = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"));
    if !is_safetensors {
        return read_state_dict(path);
    }
    let tensors = candle_core::safetensors::load(path, &Device::Cpu).map_err(|error| {
        Error::input(
            Position::file(path),
            format!("cannot read the weights (truncated or not safetensors?): {error}"),
        )
    })?;
    let mut tensors: Vec<(String, Tensor)> = tensors.into_iter().collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(tensors)
}

/// Writes the model folder `out` from the ResNet state dict at `source` (`.pth` or
/// `.safetensors`); `out` is replaced only once the whole folder is written.
pub fn import_resnet(source: &Path, depth: Depth, out: &Path) -> Result<()> {
    let state = read(source)?;
    let at = |why: String| Error::input(Position::file(source), why);
    let parallel = !state.is_empty() && state.iter().all(|(n, _)| n.starts_with("module."));
    let expected: HashMap<String, Vec<usize>> = backbone_entries(depth).into_iter().collect();
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    for (name, tensor) in state {
        let name = match name.strip_prefix("module.") {
            Some(rest) if parallel => rest.to_string(),
            _ => name,
        };
        if name.ends_with(".num_batches_tracked") {
            continue;
        }
        let shape = match name.as_str() {
            "fc.weight" => vec![
                tensor.dims().first().copied().unwrap_or(0),
                depth.features(),
            ],
            "fc.bias" => vec![tensor.dims().first().copied().unwrap_or(0)],
            _ => expected.get(&name).cloned().ok_or_else(|| {
                at(format!(
                    "'{name}' is not a weight of {} (torchvision's names)",
                    depth.name
                ))
            })?,
        };
        if tensor.dims() != shape.as_slice() {
            return Err(at(format!(
                "'{name}' has shape {:?} where {}'s is {shape:?}",
                tensor.dims(),
                depth.name
            )));
        }
        tensors.insert(name, tensor.to_dtype(DType::F32)?.contiguous()?);
    }
    if let Some(missing) = backbone_entries(depth)
        .iter()
        .map(|(n, _)| n.as_str())
        .chain(["fc.weight", "fc.bias"])
        .find(|n| !tensors.contains_key(*n))
    {
        return Err(at(format!(
            "the state dict lacks '{missing}': not a {} checkpoint",
            depth.name
        )));
    }
    let classes = tensors["fc.weight"].dim(0)?;
    if tensors["fc.bias"].dim(0)? != classes {
        return Err(at(format!(
            "fc.bias has {} classes where fc.weight has {classes}",
            tensors["fc.bias"].dim(0)?
        )));
    }
    let config = serde_json::json!({
        "model_type": depth.name,
        "architectures": ["ResNet"],
        "image_size": 224,
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
        "num_features": depth.features(),
        "num_classes": classes,
        // timm's and torchvision's ResNets have no dropout before the classifier.
        "drop_rate": 0.0,
        "source": source.file_name().map(|n| n.to_string_lossy().into_owned()),
    });
    write_image_folder(out, &config, &tensors)
}
