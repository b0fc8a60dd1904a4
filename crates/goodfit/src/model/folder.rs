//! Finding a model: a local Hugging Face folder, or a hub id looked up in the Hugging Face
//! cache and downloaded when the network is there.

use std::path::{Path, PathBuf};

use crate::error::{Error, Position, Result};

use super::family::Architecture;
use super::inputs::{BatchInputs, Collator};
use super::model_config::ModelConfig;

/// The files goodfit needs from a hub repository.
const HUB_FILES: [&str; 3] = ["config.json", "model.safetensors", "tokenizer.json"];

/// A checked model folder.
#[derive(Debug, Clone)]
pub struct ModelFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Its `config.json`.
    pub config: ModelConfig,
    /// The architecture `config.json` names.
    pub architecture: Architecture,
    /// Its `model.safetensors`.
    pub weights: PathBuf,
}

impl ModelFolder {
    /// A batch of `batch` random inputs of `length` tokens on `device`, seeded, for timing
    /// the model (`goodfit bench`): ids above the special tokens' range, like real word
    /// pieces, and no padding.
    pub fn random_inputs(
        &self,
        batch: usize,
        length: usize,
        seed: u64,
        device: &candle_core::Device,
    ) -> Result<BatchInputs> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let config = match &self.config {
            ModelConfig::Text(config) => config,
            ModelConfig::Image(config) => {
                let side = config.image_size;
                let shape = (batch, 3, side, side);
                return Ok(BatchInputs::Image {
                    pixels: candle_core::Tensor::randn(0f32, 1.0, shape, device)?,
                });
            }
        };
        let vocab = config.vocab_size as u32;
        let ids: Vec<u32> = (0..batch * length)
            .map(|_| rng.random_range(1000.min(vocab - 1)..vocab))
            .collect();
        Ok(BatchInputs::Text {
            ids: candle_core::Tensor::from_vec(ids, (batch, length), device)?,
            mask: candle_core::Tensor::ones((batch, length), candle_core::DType::F32, device)?,
        })
    }

    /// What batches this model's examples on `device` (text: padded with its padding id).
    pub fn collator(&self, device: candle_core::Device) -> Collator {
        match &self.config {
            ModelConfig::Text(config) => Collator::text(config.pad_token_id as u32, device),
            ModelConfig::Image(config) => Collator::image(config.transform(), device),
        }
    }

    /// Checks that `dir` has a config, safetensors weights and a tokenizer.
    ///
    /// Pickle checkpoints (`pytorch_model.bin`) are refused: unpickling runs arbitrary code.
    pub fn open(dir: &Path) -> Result<ModelFolder> {
        if !dir.is_dir() {
            return Err(not_a_folder(dir));
        }
        let config_path = dir.join("config.json");
        if !config_path.is_file() {
            return Err(Error::input(
                Position::file(dir),
                "the model folder has no config.json",
            ));
        }
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            let message = if dir.join("pytorch_model.bin").is_file() {
                "the model folder has only pytorch_model.bin, a pickle, which goodfit never loads; \
                 convert it once with Python: `transformers.AutoModel.from_pretrained(DIR).save_pretrained(DIR, safe_serialization=True)`"
            } else {
                "the model folder has no model.safetensors"
            };
            return Err(Error::input(Position::file(dir), message));
        }
        let (config, architecture) = ModelConfig::read(&config_path)?;
        let is_text = matches!(config, ModelConfig::Text(_));
        if is_text && !dir.join("tokenizer.json").is_file() && !dir.join("vocab.txt").is_file() {
            return Err(Error::input(
                Position::file(dir),
                "the model folder has neither tokenizer.json nor vocab.txt",
            ));
        }
        Ok(ModelFolder {
            dir: dir.to_path_buf(),
            config,
            architecture,
            weights,
        })
    }

    /// The longest input the model takes, in tokens: its position embeddings less the
    /// offset its architecture starts them at.
    /// An image model reads one picture whatever the window: no limit (`usize::MAX`).
    pub fn positions(&self) -> usize {
        match &self.config {
            ModelConfig::Text(config) => {
                config.max_position_embeddings
                    - self.architecture.position_offset(config.pad_token_id)
            }
            ModelConfig::Image(_) => usize::MAX,
        }
    }
}

/// Why `path` is not a model folder: a link that cannot be followed (a loop, a missing
/// target), a file, or nothing at all.
fn not_a_folder(path: &Path) -> Error {
    let message = match (std::fs::symlink_metadata(path), std::fs::metadata(path)) {
        (Ok(_), Err(error)) => format!("a link that cannot be followed ({error})"),
        (Ok(_), Ok(meta)) if !meta.is_dir() => "a file, not a model folder".to_string(),
        _ => "no such model folder".to_string(),
    };
    Error::input(Position::file(path), message)
}

/// Resolves `--model`: a folder as it is; otherwise a hub id (`org/name`) found in the Hugging
/// Face cache, or downloaded into it when the network allows (not when `HF_HUB_OFFLINE=1`).
pub fn resolve_model(spec: &str) -> Result<PathBuf> {
    let path = Path::new(spec);
    if path.is_dir() {
        return Ok(path.to_path_buf());
    }
    if std::fs::symlink_metadata(path).is_ok() {
        // Something is there (a file, a broken link, a link loop): not a hub id.
        return Err(not_a_folder(path));
    }
    let looks_like_id =
        !spec.starts_with(['.', '/', '~']) && spec.split('/').count() <= 2 && !spec.is_empty();
    if !looks_like_id {
        return Err(Error::input(Position::file(path), "no such model folder"));
    }
    let cache = hub_cache_dir();
    if let Some(snapshot) = cached_snapshot(&cache, spec) {
        return Ok(snapshot);
    }
    let offline =
        std::env::var("HF_HUB_OFFLINE").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"));
    let why = if offline {
        "HF_HUB_OFFLINE is set".to_string()
    } else {
        match download(spec) {
            Ok(dir) => return Ok(dir),
            Err(error) => format!("the download failed: {error}"),
        }
    };
    Err(Error::Invalid(format!(
        "model '{spec}' is not a local folder and not in the Hugging Face cache (looked in {}); {why}. \
         Pass a folder with config.json, model.safetensors and tokenizer.json instead",
        cache.display()
    )))
}

/// The hub cache: `HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`.
pub fn hub_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HF_HUB_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(home) = std::env::var_os("HF_HOME") {
        return PathBuf::from(home).join("hub");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/huggingface/hub")
}

/// The snapshot folder of `id` at `refs/main` in the cache, if it holds the needed files.
fn cached_snapshot(cache: &Path, id: &str) -> Option<PathBuf> {
    let repo = cache.join(format!("models--{}", id.replace('/', "--")));
    let revision = std::fs::read_to_string(repo.join("refs/main")).ok()?;
    let snapshot = repo.join("snapshots").join(revision.trim());
    HUB_FILES
        .iter()
        .all(|file| snapshot.join(file).is_file())
        .then_some(snapshot)
}

/// Downloads the needed files of `id` into the cache with `hf-hub`.
fn download(id: &str) -> std::result::Result<PathBuf, String> {
    let api = hf_hub::api::sync::ApiBuilder::from_env()
        .with_progress(false)
        .build()
        .map_err(|e| e.to_string())?;
    let repo = api.model(id.to_string());
    let mut dir = None;
    for file in HUB_FILES {
        let path = repo.get(file).map_err(|e| e.to_string())?;
        dir = path.parent().map(Path::to_path_buf);
    }
    dir.ok_or_else(|| "no files".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_snapshots_are_found_by_hub_id() {
        let cache = tempfile::tempdir().unwrap();
        let repo = cache.path().join("models--org--tiny");
        let snapshot = repo.join("snapshots/abc123");
        std::fs::create_dir_all(&snapshot).unwrap();
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs/main"), "abc123\n").unwrap();
        assert_eq!(
            cached_snapshot(cache.path(), "org/tiny"),
            None,
            "files missing"
        );
        for file in HUB_FILES {
            std::fs::write(snapshot.join(file), "{}").unwrap();
        }
        assert_eq!(cached_snapshot(cache.path(), "org/tiny"), Some(snapshot));
        assert_eq!(cached_snapshot(cache.path(), "org/other"), None);
    }

    #[test]
    fn pickle_checkpoints_are_refused_with_a_way_out() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), "{}").unwrap();
        std::fs::write(dir.path().join("pytorch_model.bin"), "x").unwrap();
        let message = ModelFolder::open(dir.path()).unwrap_err().to_string();
        assert!(
            message.contains("pickle") && message.contains("safe_serialization=True"),
            "{message}"
        );
    }
}
