//! How a model's raw inputs become [`Example`]s: the preprocessor its family names in the
//! [registry](super::registry) — a tokenizer for text today, an image transform next.

use std::path::Path;

use tokenizers::Tokenizer;

use crate::error::{Error, Result};

use super::inputs::Example;
use super::tokenizer::{encode_texts, load_tokenizer};

/// A model's preprocessor.
#[derive(Clone)]
pub enum Preprocessor {
    /// A Hugging Face tokenizer (padding and truncation off: the window is the caller's).
    Text(Tokenizer),
}

impl Preprocessor {
    /// The tokenizer of the model folder `dir` (`tokenizer.json` or `vocab.txt`).
    pub fn text(dir: &Path) -> Result<Preprocessor> {
        Ok(Preprocessor::Text(load_tokenizer(dir)?))
    }

    /// `texts` as examples, truncated to `max_len` tokens.
    pub fn texts(&self, texts: &[String], max_len: usize) -> Result<Vec<Example>> {
        match self {
            Preprocessor::Text(tokenizer) => Ok(encode_texts(tokenizer, texts, max_len)?
                .into_iter()
                .map(Example::Tokens)
                .collect()),
        }
    }

    /// The tokenizer, for a model that reads text (`inspect` counts tokens with it).
    pub fn tokenizer(&self) -> Option<&Tokenizer> {
        match self {
            Preprocessor::Text(tokenizer) => Some(tokenizer),
        }
    }

    /// Writes what a saved model needs to preprocess as training did into the folder `dir`
    /// (`tokenizer.json`).
    pub fn save(&self, dir: &Path) -> Result<()> {
        match self {
            Preprocessor::Text(tokenizer) => {
                let path = dir.join("tokenizer.json");
                tokenizer
                    .save(&path, false)
                    .map_err(|e| Error::Invalid(format!("cannot write {}: {e}", path.display())))
            }
        }
    }
}
