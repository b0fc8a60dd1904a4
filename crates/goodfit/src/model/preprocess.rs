//! How a model's raw inputs become [`Example`]s: the preprocessor its family names in the
//! [registry](super::registry) — a tokenizer for text today, an image transform next.

use std::path::Path;

use tokenizers::Tokenizer;

use crate::error::{Error, Result};

use super::image_transform::ImageTransform;
use super::inputs::Example;
use super::tokenizer::{encode_texts, load_tokenizer};

/// A model's preprocessor.
#[derive(Clone)]
pub enum Preprocessor {
    /// A Hugging Face tokenizer (padding and truncation off: the window is the caller's),
    /// boxed: it is large, and the enum is moved around.
    Text(Box<Tokenizer>),
    /// Pictures decoded, resized and normalised for an image model.
    Image(ImageTransform),
}

impl Preprocessor {
    /// The tokenizer of the model folder `dir` (`tokenizer.json` or `vocab.txt`).
    pub fn text(dir: &Path) -> Result<Preprocessor> {
        Ok(Preprocessor::Text(Box::new(load_tokenizer(dir)?)))
    }

    /// An image model's: decoding, resizing and normalising as its folder's config says.
    pub fn of_image_model(folder: &super::folder::ModelFolder) -> Result<Preprocessor> {
        Ok(Preprocessor::Image(folder.config.image()?.transform()))
    }

    /// The examples of a data file's input column `values` (read from `source`): texts
    /// tokenised and truncated to `max_len` tokens, or for an image model image paths,
    /// relative to the data file's folder (each checked to be a file; the pictures are read
    /// when batched).
    pub fn examples(
        &self,
        values: &[String],
        source: &Path,
        max_len: usize,
    ) -> Result<Vec<Example>> {
        match self {
            Preprocessor::Text(_) => self.texts(values, max_len),
            Preprocessor::Image(_) => {
                let base = if source.is_dir() {
                    source
                } else {
                    source.parent().unwrap_or(Path::new("."))
                };
                values
                    .iter()
                    .map(|value| {
                        let path = base.join(value);
                        if path.is_file() {
                            Ok(Example::Image(path))
                        } else {
                            Err(Error::input(
                                crate::error::Position::file(source),
                                format!(
                                    "image '{value}' is not a file (looked for {})",
                                    path.display()
                                ),
                            ))
                        }
                    })
                    .collect()
            }
        }
    }

    /// `texts` as examples, truncated to `max_len` tokens (a text model's inputs made
    /// from text that no file holds: augmented copies, `predict`'s input).
    pub fn texts(&self, texts: &[String], max_len: usize) -> Result<Vec<Example>> {
        match self {
            Preprocessor::Text(tokenizer) => Ok(encode_texts(tokenizer, texts, max_len)?
                .into_iter()
                .map(Example::Tokens)
                .collect()),
            Preprocessor::Image(_) => Err(Error::Invalid(
                "an image model reads image files, not text".into(),
            )),
        }
    }

    /// The tokenizer, for a model that reads text (`inspect` counts tokens with it).
    pub fn tokenizer(&self) -> Option<&Tokenizer> {
        match self {
            Preprocessor::Text(tokenizer) => Some(tokenizer),
            Preprocessor::Image(_) => None,
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
            // The transform is in the saved config.json.
            Preprocessor::Image(_) => Ok(()),
        }
    }
}
