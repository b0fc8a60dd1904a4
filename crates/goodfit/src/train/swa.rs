//! Stochastic weight averaging (Izmailov et al. 2018; `--swa-epochs`): the running mean of
//! the last epochs' weights, as torch's `AveragedModel` keeps it, and the running
//! statistics recomputed for the averaged weights, as torch's `swa_utils.update_bn` does.

use std::collections::BTreeMap;

use candle_core::Tensor;

use crate::error::Result;
use crate::model::{Classifier, Collator, Example, Mode};

use super::config::TrainConfig;
use super::observer::Observer;

/// Recomputes the backbone's running statistics for averaged weights, as PyTorch's
/// `torch.optim.swa_utils.update_bn` does: one pass over the training examples (as they are,
/// unaugmented) in training mode, each batch's statistics weighing equally. A backbone
/// without such buffers (a text encoder) is left as it is.
pub(crate) fn refresh_buffers(
    classifier: &Classifier,
    examples: &[Example],
    config: &TrainConfig,
    collator: &Collator,
    observer: &dyn Observer,
) -> Result<()> {
    let backbone = classifier.backbone();
    if backbone.buffers()?.is_empty() || examples.is_empty() {
        return Ok(());
    }
    backbone.refresh_buffers(true)?;
    let rows: Vec<usize> = (0..examples.len()).collect();
    let mut mode =
        Mode::train(<rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(config.seed));
    let pass = rows
        .chunks(config.batch_size.max(2))
        .try_for_each(|chunk| -> Result<()> {
            let batch = super::batching::make_batch(examples, chunk, collator)?;
            backbone.features(&batch.inputs, &mut mode)?;
            Ok(())
        });
    backbone.refresh_buffers(false)?;
    pass?;
    observer.message(&format!(
        "recomputed the BatchNorm statistics of the averaged weights over the {} training examples (as torch's swa_utils.update_bn)",
        examples.len()
    ));
    Ok(())
}

/// Folds the `count`-th set of weights `current` into the running mean `averaged` (as
/// torch's `AveragedModel` does: `avg + (new − avg) / count`).
pub(crate) fn average_into(
    averaged: &mut BTreeMap<String, Tensor>,
    current: &BTreeMap<String, Tensor>,
    count: usize,
) -> Result<()> {
    for (name, tensor) in current {
        let next = match averaged.get(name) {
            Some(avg) if count > 1 => (avg + ((tensor - avg)? / count as f64)?)?,
            _ => tensor.copy()?,
        };
        averaged.insert(name.clone(), next);
    }
    Ok(())
}
