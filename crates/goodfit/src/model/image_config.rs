//! An image model folder's `config.json`: the architecture, the input size and the
//! normalisation its weights were trained with (written by `goodfit import-weights` and by
//! a saved image classifier, which adds its labels).

use std::path::Path;

use std::collections::HashMap;

use candle_core::Tensor;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Position, Result};

use crate::io::replace_dir_with;

use super::image_transform::ImageTransform;

fn default_drop_rate() -> f64 {
    0.2
}
fn default_bn_eps() -> f64 {
    super::cnn::batch_norm::EPS
}

/// The fields of an image model's `config.json` that goodfit uses (others are kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// `efficientnet_lite0`.
    pub model_type: String,
    /// The side of the square input, in pixels.
    pub image_size: usize,
    /// Per-channel mean on the 0–1 scale.
    pub mean: [f32; 3],
    /// Per-channel standard deviation on the 0–1 scale.
    pub std: [f32; 3],
    /// The width of the pooled features.
    pub num_features: usize,
    /// Dropout before the classifier (timm's `drop_rate`).
    #[serde(default = "default_drop_rate")]
    pub drop_rate: f64,
    /// BatchNorm's epsilon.
    #[serde(default = "default_bn_eps")]
    pub bn_eps: f64,
    /// Everything else in the file, kept when saving.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ImageConfig {
    /// Reads and checks `config.json`.
    pub fn read(path: &Path) -> Result<ImageConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let config: ImageConfig = serde_json::from_str(&text).map_err(|error| {
            Error::input(
                Position::line(path, error.line() as u64).with_column(error.column() as u64),
                format!("not a usable image model config: {error}"),
            )
        })?;
        let field = |name: &str| Position::file(path).with_field(name);
        if config.image_size < 32 {
            return Err(Error::input(
                field("image_size"),
                "must be at least 32 pixels",
            ));
        }
        if let Some(s) = config.std.iter().find(|s| !(**s > 0.0 && s.is_finite())) {
            return Err(Error::input(
                field("std"),
                format!("{s} is not a positive number"),
            ));
        }
        Ok(config)
    }

    /// The transform that turns a picture into the model's input.
    pub fn transform(&self) -> ImageTransform {
        ImageTransform {
            size: self.image_size,
            mean: self.mean,
            std: self.std,
        }
    }
}

/// Writes the image model folder `out` (`config.json` and `model.safetensors` with
/// `tensors`), replacing it only once both are written.
pub fn write_image_folder(
    out: &Path,
    config: &serde_json::Value,
    tensors: &HashMap<String, Tensor>,
) -> Result<()> {
    replace_dir_with(out, |tmp| {
        let path = tmp.join("config.json");
        let text = serde_json::to_string_pretty(config).map_err(Error::serialization)? + "\n";
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        let path = tmp.join("model.safetensors");
        safetensors::serialize_to_file(tensors, None, &path)
            .map_err(|e| Error::Invalid(format!("cannot write {}: {e}", path.display())))
    })
}
