//! A model folder's `config.json`, read by the family its `model_type` names: a text
//! encoder's ([`EncoderConfig`]) or an image model's ([`ImageConfig`]).

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Position, Result};

use super::config::EncoderConfig;
use super::family::Architecture;
use super::image_config::ImageConfig;

/// What a model's `config.json` says, by kind of model.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelConfig {
    /// A text encoder (BERT family).
    Text(EncoderConfig),
    /// An image model (a CNN).
    Image(ImageConfig),
}

impl ModelConfig {
    /// Reads `config.json` at `path`: its `model_type` names the family, which reads the
    /// rest. Returns the config and the family.
    pub fn read(path: &Path) -> Result<(ModelConfig, Architecture)> {
        #[derive(Deserialize)]
        struct Kind {
            model_type: Option<String>,
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let kind: Kind = serde_json::from_str(&text).map_err(|error| {
            Error::input(
                Position::line(path, error.line() as u64).with_column(error.column() as u64),
                format!("not a usable model config: {error}"),
            )
        })?;
        let model_type = kind.model_type.ok_or_else(|| {
            Error::input(
                Position::file(path).with_field("model_type"),
                "missing: goodfit needs it to know the architecture",
            )
        })?;
        let architecture = super::registry::require(&model_type, path)?;
        Ok(((architecture.family().read_config)(path)?, architecture))
    }

    /// A text encoder family's reader.
    pub fn read_text(path: &Path) -> Result<ModelConfig> {
        Ok(ModelConfig::Text(EncoderConfig::read(path)?))
    }

    /// An image family's reader.
    pub fn read_image(path: &Path) -> Result<ModelConfig> {
        Ok(ModelConfig::Image(ImageConfig::read(path)?))
    }

    /// The text encoder's config; an error for an image model.
    pub fn text(&self) -> Result<&EncoderConfig> {
        match self {
            ModelConfig::Text(config) => Ok(config),
            ModelConfig::Image(config) => Err(Error::Invalid(format!(
                "{} is an image model: this needs a text encoder",
                config.model_type
            ))),
        }
    }

    /// The image model's config; an error for a text encoder.
    pub fn image(&self) -> Result<&ImageConfig> {
        match self {
            ModelConfig::Image(config) => Ok(config),
            ModelConfig::Text(config) => Err(Error::Invalid(format!(
                "{} is a text encoder: this needs an image model",
                config.model_type
            ))),
        }
    }

    /// The width of the features the head reads.
    pub fn feature_size(&self) -> usize {
        match self {
            ModelConfig::Text(config) => config.hidden_size,
            ModelConfig::Image(config) => config.num_features,
        }
    }

    /// The dropout the model was trained with (the head's default).
    pub fn dropout(&self) -> f64 {
        match self {
            ModelConfig::Text(config) => config.hidden_dropout_prob,
            ModelConfig::Image(config) => config.drop_rate,
        }
    }
}
