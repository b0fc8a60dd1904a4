//! A model folder's `config.json`: the encoder's shape and which architecture it is.

use std::path::Path;

use super::family::Architecture;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Position, Result};

/// The activation of a classification head's hidden layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadActivation {
    /// tanh (RoBERTa's head, BERT's pooler).
    Tanh,
    /// ReLU (DistilBERT's `pre_classifier`).
    Relu,
}

/// The activation of the feed-forward block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Activation {
    /// The exact, erf-based GELU (`"gelu"` in transformers).
    #[serde(rename = "gelu")]
    Gelu,
    /// The tanh approximation of GELU (`"gelu_new"`, `"gelu_pytorch_tanh"`).
    #[serde(rename = "gelu_new", alias = "gelu_pytorch_tanh", alias = "gelu_fast")]
    GeluTanh,
    /// ReLU.
    #[serde(rename = "relu")]
    Relu,
}

fn default_eps() -> f64 {
    1e-12
}
fn default_dropout() -> f64 {
    0.1
}
fn default_type_vocab() -> usize {
    2
}
fn default_activation() -> Activation {
    Activation::Gelu
}

/// The fields of `config.json` that goodfit uses (others are kept as they are when saving).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncoderConfig {
    /// `bert`, `roberta`, `xlm-roberta`, …
    pub model_type: String,
    /// Tokens in the vocabulary.
    pub vocab_size: usize,
    /// Width of every hidden state (DistilBERT: `dim`).
    #[serde(alias = "dim")]
    pub hidden_size: usize,
    /// Encoder layers (DistilBERT: `n_layers`).
    #[serde(alias = "n_layers")]
    pub num_hidden_layers: usize,
    /// Attention heads per layer (DistilBERT: `n_heads`).
    #[serde(alias = "n_heads")]
    pub num_attention_heads: usize,
    /// Width of the feed-forward block (DistilBERT: `hidden_dim`).
    #[serde(alias = "hidden_dim")]
    pub intermediate_size: usize,
    /// The feed-forward activation (DistilBERT: `activation`).
    #[serde(default = "default_activation", alias = "activation")]
    pub hidden_act: Activation,
    /// Dropout on hidden states (DistilBERT: `dropout`).
    #[serde(default = "default_dropout", alias = "dropout")]
    pub hidden_dropout_prob: f64,
    /// Dropout on attention probabilities (DistilBERT: `attention_dropout`).
    #[serde(default = "default_dropout", alias = "attention_dropout")]
    pub attention_probs_dropout_prob: f64,
    /// The longest sequence the position embeddings cover.
    pub max_position_embeddings: usize,
    /// Segment (token type) vocabulary size.
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// The padding token's id.
    #[serde(default)]
    pub pad_token_id: usize,
}

impl EncoderConfig {
    /// Reads and checks `config.json`.
    pub fn read(path: &Path) -> Result<EncoderConfig> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::io(path, source))?;
        let config: EncoderConfig = serde_json::from_str(&text).map_err(|error| {
            Error::input(
                Position::line(path, error.line() as u64).with_column(error.column() as u64),
                format!("not a usable model config: {error}"),
            )
        })?;
        config.architecture(path)?;
        if config.num_attention_heads == 0 || config.hidden_size % config.num_attention_heads != 0 {
            return Err(Error::input(
                Position::file(path).with_field("num_attention_heads"),
                format!(
                    "hidden_size {} is not divisible by num_attention_heads {}",
                    config.hidden_size, config.num_attention_heads
                ),
            ));
        }
        Ok(config)
    }

    /// The architecture named by `model_type`, or an error naming the supported ones.
    pub fn architecture(&self, path: &Path) -> Result<Architecture> {
        super::registry::require(&self.model_type, path)
    }

    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_minilm_style_config_and_refuses_other_architectures() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"model_type": "bert", "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2,
                "num_attention_heads": 4, "intermediate_size": 64, "hidden_act": "gelu",
                "max_position_embeddings": 64, "layer_norm_eps": 1e-12, "extra": [1, 2]}"#,
        )
        .unwrap();
        let config = EncoderConfig::read(&path).unwrap();
        assert_eq!(config.head_dim(), 8);
        assert_eq!(config.type_vocab_size, 2);
        assert_eq!(config.hidden_dropout_prob, 0.1);

        std::fs::write(
            &path,
            r#"{"model_type": "gpt2", "vocab_size": 100, "hidden_size": 32, "num_hidden_layers": 2,
                "num_attention_heads": 4, "intermediate_size": 64, "max_position_embeddings": 64}"#,
        )
        .unwrap();
        let message = EncoderConfig::read(&path).unwrap_err().to_string();
        assert!(
            message.contains("field 'model_type': unsupported architecture 'gpt2'"),
            "{message}"
        );
        assert!(message.contains("roberta"), "{message}");
    }
}
