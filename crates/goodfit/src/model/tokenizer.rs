//! Loading a model folder's tokenizer with the `tokenizers` crate.

use std::path::Path;

use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::bert::BertProcessing;
use tokenizers::{Model, Tokenizer};

use crate::error::{Error, Position, Result};

/// Loads the tokenizer of a Hugging Face model folder: `tokenizer.json`, or else a BERT
/// WordPiece vocabulary `vocab.txt` (lower-cased, as `bert-base-uncased` is).
///
/// Padding and truncation configured in the file are turned off: callers decide both.
pub fn load_tokenizer(model_dir: &Path) -> Result<Tokenizer> {
    if !model_dir.is_dir() {
        return Err(Error::input(
            Position::file(model_dir),
            "no such model folder (expected a Hugging Face folder with tokenizer.json)",
        ));
    }
    let json = model_dir.join("tokenizer.json");
    let vocab = model_dir.join("vocab.txt");
    let mut tokenizer = if json.is_file() {
        Tokenizer::from_file(&json).map_err(|error| {
            Error::input(
                Position::file(&json),
                format!("cannot load the tokenizer: {error}"),
            )
        })?
    } else if vocab.is_file() {
        wordpiece_tokenizer(&vocab)?
    } else {
        return Err(Error::input(
            Position::file(model_dir),
            "the model folder has neither tokenizer.json nor vocab.txt",
        ));
    };
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(None)
        .map_err(|error| Error::Invalid(format!("cannot turn truncation off: {error}")))?;
    Ok(tokenizer)
}

/// A BERT tokenizer built from a WordPiece `vocab.txt`.
fn wordpiece_tokenizer(vocab: &Path) -> Result<Tokenizer> {
    let bad = |error: Box<dyn std::error::Error + Send + Sync>| {
        Error::input(
            Position::file(vocab),
            format!("cannot load the vocabulary: {error}"),
        )
    };
    let path = vocab.to_string_lossy().into_owned();
    let model = WordPiece::from_file(&path).build().map_err(bad)?;
    let token_id = |token: &str| {
        model.token_to_id(token).ok_or_else(|| {
            Error::input(
                Position::file(vocab),
                format!("the vocabulary has no {token} token"),
            )
        })
    };
    let sep = token_id("[SEP]")?;
    let cls = token_id("[CLS]")?;
    let mut tokenizer = Tokenizer::new(model);
    tokenizer.with_normalizer(Some(BertNormalizer::default()));
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    tokenizer.with_post_processor(Some(BertProcessing::new(
        ("[SEP]".to_string(), sep),
        ("[CLS]".to_string(), cls),
    )));
    Ok(tokenizer)
}

/// Token ids of each text, special tokens included, truncated to `max_len` tokens as the
/// Hugging Face tokenizers truncate (the special tokens are kept: `[CLS] … [SEP]`).
pub fn encode_texts(
    tokenizer: &Tokenizer,
    texts: &[String],
    max_len: usize,
) -> Result<Vec<Vec<u32>>> {
    let mut tokenizer = tokenizer.clone();
    tokenizer
        .with_truncation(Some(tokenizers::TruncationParams {
            max_length: max_len,
            ..Default::default()
        }))
        .map_err(|error| Error::Invalid(format!("cannot truncate to {max_len} tokens: {error}")))?;
    let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let encodings = tokenizer
        .encode_batch(inputs, true)
        .map_err(|error| Error::Invalid(format!("tokenisation failed: {error}")))?;
    Ok(encodings
        .into_iter()
        .map(|e| e.get_ids().to_vec())
        .collect())
}
