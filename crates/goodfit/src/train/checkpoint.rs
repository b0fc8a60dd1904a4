//! A checkpoint after every epoch, so `--resume` continues exactly where a run stopped.
//!
//! One safetensors file holds the trainable weights (`param.*`), the best epoch's weights
//! (`best.*`), the running average of `--swa-epochs` (`swa.*`) and the optimizer's moments
//! (`optim.*`); its metadata holds the loop's state
//! as JSON. It is written to a temporary file and renamed, so a crash mid-write leaves the
//! previous checkpoint intact.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Position, Result};
use crate::io::write_atomic_with;

use super::early_stopping::EarlyStopping;

/// The metadata key of the loop state.
const STATE_KEY: &str = "goodfit_state";

/// Where the loop is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopState {
    /// Epochs finished.
    pub epochs_done: usize,
    /// Optimizer steps taken.
    pub global_step: usize,
    /// Early stopping's memory.
    pub early_stopping: EarlyStopping,
    /// Whether early stopping ended the run.
    pub stopped_early: bool,
    /// One history record per finished epoch.
    pub history: Vec<crate::run_folder::records::EpochRecord>,
    /// Training seconds so far.
    pub seconds: f64,
    /// Epochs in the running weight average (`--swa-epochs`).
    #[serde(default)]
    pub swa_count: usize,
}

/// Everything a checkpoint holds.
pub struct Checkpoint {
    /// The loop's state.
    pub state: LoopState,
    /// Trainable weights at the end of the last finished epoch.
    pub params: HashMap<String, Tensor>,
    /// Trainable weights of the best epoch.
    pub best: HashMap<String, Tensor>,
    /// The running average of the last epochs' weights (empty without `--swa-epochs`).
    pub averaged: HashMap<String, Tensor>,
    /// The optimizer state ([`AdamW::state`](super::optimizer::AdamW::state)).
    pub optimizer: HashMap<String, Tensor>,
}

/// Writes a checkpoint atomically.
pub fn save(
    path: &Path,
    state: &LoopState,
    params: &BTreeMap<String, Tensor>,
    best: &BTreeMap<String, Tensor>,
    averaged: &BTreeMap<String, Tensor>,
    optimizer: &HashMap<String, Tensor>,
) -> Result<()> {
    let mut tensors: Vec<(String, &Tensor)> = Vec::new();
    tensors.extend(params.iter().map(|(n, t)| (format!("param.{n}"), t)));
    tensors.extend(best.iter().map(|(n, t)| (format!("best.{n}"), t)));
    tensors.extend(averaged.iter().map(|(n, t)| (format!("swa.{n}"), t)));
    tensors.extend(optimizer.iter().map(|(n, t)| (format!("optim.{n}"), t)));
    let json = serde_json::to_string(state)
        .map_err(|e| Error::Invalid(format!("cannot encode the loop state: {e}")))?;
    let metadata = HashMap::from([(STATE_KEY.to_string(), json)]);
    write_atomic_with(path, |tmp| {
        safetensors::serialize_to_file(tensors, Some(metadata), tmp).map_err(|e| {
            Error::Invalid(format!(
                "cannot write the checkpoint {}: {e}",
                tmp.display()
            ))
        })
    })
}

/// Reads a checkpoint written by [`save`].
pub fn load(path: &Path, device: &Device) -> Result<Checkpoint> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |why: String| {
        Error::input(
            Position::file(path),
            format!("not a usable checkpoint: {why}"),
        )
    };
    let (_, metadata) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
    let json = metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get(STATE_KEY))
        .ok_or_else(|| bad("no loop state".into()))?;
    let state: LoopState = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let tensors =
        candle_core::safetensors::load_buffer(&bytes, device).map_err(|e| bad(e.to_string()))?;
    let mut checkpoint = Checkpoint {
        state,
        params: HashMap::new(),
        best: HashMap::new(),
        averaged: HashMap::new(),
        optimizer: HashMap::new(),
    };
    for (name, tensor) in tensors {
        if let Some(n) = name.strip_prefix("param.") {
            checkpoint.params.insert(n.to_string(), tensor);
        } else if let Some(n) = name.strip_prefix("best.") {
            checkpoint.best.insert(n.to_string(), tensor);
        } else if let Some(n) = name.strip_prefix("swa.") {
            checkpoint.averaged.insert(n.to_string(), tensor);
        } else if let Some(n) = name.strip_prefix("optim.") {
            checkpoint.optimizer.insert(n.to_string(), tensor);
        }
    }
    Ok(checkpoint)
}
