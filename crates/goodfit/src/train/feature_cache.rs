//! The frozen encoder's pooled features kept on disk between commands, so that a second
//! `goodfit audit` (or head-only `train`, or `--auto`) on the same data skips the one pass
//! of the encoder that dominates its time — as Hugging Face's datasets cache their
//! `map` results.
//!
//! A file per set of examples, named by a hash of everything the features depend on: the
//! model's weights file (path, size, modification time), its pooling, the window, and the
//! examples themselves (token ids; a picture's path, size and modification time). The
//! folder is `$GOODFIT_CACHE`, else `$XDG_CACHE_HOME/goodfit/features`, else
//! `~/.cache/goodfit/features`; `GOODFIT_CACHE=off` turns it off. A file that does not
//! read back as `[rows, width]` is computed again.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use crate::error::{Error, Result};
use crate::model::{Example, ModelFolder};

/// The environment variable that moves (or, set to `off`, disables) the cache.
pub const CACHE_ENV: &str = "GOODFIT_CACHE";

/// The name of the tensor in a cache file.
const TENSOR: &str = "features";

/// The cache folder, or `None` when it is off or no home is known.
pub fn cache_dir() -> Option<PathBuf> {
    match std::env::var_os(CACHE_ENV) {
        Some(v) if v == "off" || v.is_empty() => None,
        Some(v) => Some(PathBuf::from(v)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
            .map(|base| base.join("goodfit").join("features")),
    }
}

/// The cache file of the pooled features of `examples` under `folder`'s model, pooled as
/// `pooling` says.
pub fn cache_file(
    dir: &Path,
    folder: &ModelFolder,
    pooling: &str,
    examples: &[Example],
) -> PathBuf {
    let mut h = fnv::FnvHasher::default();
    let identity = |p: &Path, h: &mut fnv::FnvHasher| {
        p.canonicalize().unwrap_or_else(|_| p.to_path_buf()).hash(h);
        if let Ok(meta) = std::fs::metadata(p) {
            meta.len().hash(h);
            if let Ok(t) = meta.modified() {
                t.hash(h);
            }
        }
    };
    identity(&folder.weights, &mut h);
    pooling.hash(&mut h);
    examples.len().hash(&mut h);
    for example in examples {
        example.hash(&mut h);
        if let Some(picture) = example.picture() {
            identity(picture, &mut h);
        }
    }
    dir.join(format!("{:016x}.safetensors", h.finish()))
}

/// The features in `file`, when it holds a `[rows, width]` tensor (the width is the
/// model's, which the file's name already depends on).
pub fn load(file: &Path, rows: usize, device: &Device) -> Option<Tensor> {
    let tensors = candle_core::safetensors::load(file, device).ok()?;
    let features = tensors.get(TENSOR)?;
    (features.dims().len() == 2 && features.dims()[0] == rows).then(|| features.clone())
}

/// Keeps `features` in `file` (written to an exclusive temporary file, then renamed).
pub fn store(file: &Path, features: &Tensor) -> Result<()> {
    let tensors = std::collections::HashMap::from([(TENSOR.to_string(), features.clone())]);
    crate::io::write_atomic_with(file, |tmp| {
        safetensors::serialize_to_file(&tensors, None, tmp)
            .map_err(|e| Error::Invalid(format!("cannot write {}: {e}", file.display())))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_come_back_as_stored_and_a_wrong_shape_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("x.safetensors");
        let features = Tensor::new(&[[1f32, 2.0], [3.0, 4.0], [5.0, 6.0]], &Device::Cpu).unwrap();
        store(&file, &features).unwrap();
        let back = load(&file, 3, &Device::Cpu).unwrap();
        assert_eq!(
            back.to_vec2::<f32>().unwrap(),
            features.to_vec2::<f32>().unwrap()
        );
        assert!(load(&file, 4, &Device::Cpu).is_none());
        assert!(load(&dir.path().join("none"), 3, &Device::Cpu).is_none());
    }
}
