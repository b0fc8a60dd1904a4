//! Work done once for the part of the model that does not train.
//!
//! A frozen layer gives the same output for the same input every epoch, and runs without
//! dropout. So when the bottom of the encoder is frozen its output is computed once per
//! example and kept, and each epoch (and each evaluation) runs only the layers that train:
//! - with `--train-layers 0`, the pooled features of the whole encoder, `[n, hidden]`;
//! - with the top layers training, the hidden states after the frozen layers, one
//!   `[tokens, hidden]` tensor per example, padded into batches when used.

use candle_core::Tensor;

use crate::error::Result;
use crate::model::{Classifier, Collator, Example, Mode};

use super::batching::{eval_batches, make_batch};
use super::data::Examples;
use super::observer::Observer;

/// What was computed once for one set of examples.
pub enum Precomputed {
    /// The frozen encoder's pooled features, `[n, hidden]` (nothing in the encoder trains).
    Features(Tensor),
    /// Per example, the hidden states after the frozen bottom layers, `[tokens, hidden]`.
    States(Vec<Tensor>),
}

/// The precomputed inputs of the training, validation and test sets.
pub struct FrozenCache {
    /// Training examples.
    pub train: Precomputed,
    /// Validation examples.
    pub val: Precomputed,
    /// Test examples, when there is a test file.
    pub test: Option<Precomputed>,
}

impl Precomputed {
    /// Runs the frozen part of `classifier` over every example once: the whole encoder and
    /// its pooling when `features`, else the frozen bottom layers.
    pub fn compute(
        classifier: &Classifier,
        examples: &Examples,
        features: bool,
        batch_size: usize,
        collator: &Collator,
        observer: &dyn Observer,
    ) -> Result<Precomputed> {
        let lengths: Vec<usize> = examples.encoded.iter().map(Example::size).collect();
        let all: Vec<usize> = (0..examples.len()).collect();
        let mut pooled = Vec::new();
        let mut order = Vec::with_capacity(examples.len());
        let mut states: Vec<Option<Tensor>> = vec![None; examples.len()];
        let backbone = classifier.backbone();
        for rows in eval_batches(&all, batch_size, &lengths) {
            let batch = make_batch(&examples.encoded, &rows, collator)?;
            if features {
                pooled.push(backbone.frozen_features(&batch.inputs)?);
                order.extend(rows.iter().copied());
            } else {
                let prefix = backbone.frozen_prefix(&batch.inputs)?;
                for (&row, own) in rows.iter().zip(prefix) {
                    states[row] = Some(own);
                }
            }
            observer.eval_progress(rows.len());
        }
        if !features {
            return Ok(Precomputed::States(
                states
                    .into_iter()
                    .map(|s| s.expect("every row computed"))
                    .collect(),
            ));
        }
        let stacked = Tensor::cat(&pooled, 0)?;
        let mut inverse = vec![0u32; order.len()];
        for (position, &row) in order.iter().enumerate() {
            inverse[row] = position as u32;
        }
        Ok(Precomputed::Features(stacked.index_select(
            &Tensor::new(inverse, collator.device())?,
            0,
        )?))
    }

    /// The precomputed inputs of `rows` only, in that order.
    pub fn select(&self, rows: &[usize]) -> Result<Precomputed> {
        Ok(match self {
            Precomputed::Features(features) => Precomputed::Features(pick_rows(features, rows)?),
            Precomputed::States(states) => {
                Precomputed::States(rows.iter().map(|&r| states[r].clone()).collect())
            }
        })
    }
}

/// The backbone's features `[rows, d]` of `rows` of the tokenised examples `encoded`, which
/// [`Classifier::classify`] turns into logits: from `precomputed` inputs when there are
/// some, else from the tokens through the whole model.
pub fn pooled_rows(
    classifier: &Classifier,
    encoded: &[Example],
    rows: &[usize],
    precomputed: Option<&Precomputed>,
    mode: &mut Mode,
    collator: &Collator,
) -> Result<Tensor> {
    let backbone = classifier.backbone();
    match precomputed {
        Some(Precomputed::Features(features)) => {
            backbone.features_from_frozen(&pick_rows(features, rows)?)
        }
        Some(Precomputed::States(states)) => {
            let batch = make_batch(encoded, rows, collator)?;
            let prefix: Vec<&Tensor> = rows.iter().map(|&r| &states[r]).collect();
            backbone.features_from_prefix(&prefix, &batch.inputs, mode)
        }
        None => {
            let batch = make_batch(encoded, rows, collator)?;
            backbone.features(&batch.inputs, mode)
        }
    }
}

/// The rows `rows` of a feature matrix, in that order.
pub(crate) fn pick_rows(features: &Tensor, rows: &[usize]) -> Result<Tensor> {
    let index: Vec<u32> = rows.iter().map(|&r| r as u32).collect();
    Ok(features.index_select(&Tensor::new(index, features.device())?, 0)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tiny::write_tiny_bert;
    use crate::model::{ClassifierSpec, ModelFolder, Params, Pooling, TrainLayers};
    use crate::train::Silent;
    use candle_core::Device;

    #[test]
    fn each_example_keeps_only_its_own_states() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny_bert(dir.path(), 2).unwrap();
        let folder = ModelFolder::open(dir.path()).unwrap();
        let mut params = Params::load(&folder.weights, "bert", &Device::Cpu, 0).unwrap();
        let spec = ClassifierSpec {
            pooling: Pooling::Mean,
            head_hidden: None,
            dropout: None,
            train_layers: TrainLayers::Top(1),
            classes: 2,
        };
        let classifier =
            Classifier::build(&mut params, &folder.config, folder.architecture, &spec).unwrap();
        let examples = Examples {
            encoded: [vec![2, 5, 3], vec![2, 5, 6, 7, 8, 9, 3], vec![2, 3]]
                .map(Example::Tokens)
                .to_vec(),
            targets: vec![0, 1, 0],
        };
        let collator = Collator::text(0, Device::Cpu);
        let Precomputed::States(states) =
            Precomputed::compute(&classifier, &examples, false, 8, &collator, &Silent).unwrap()
        else {
            panic!("states expected")
        };
        let hidden = folder.config.feature_size();
        for (state, example) in states.iter().zip(&examples.encoded) {
            assert_eq!(state.dims(), [example.size(), hidden]);
            // The storage holds this example's values only, not the padded batch's.
            let (storage, _) = state.storage_and_layout();
            let candle_core::Storage::Cpu(cpu) = &*storage else {
                panic!("cpu")
            };
            assert_eq!(
                cpu.as_slice::<f32>().unwrap().len(),
                example.size() * hidden
            );
        }
    }
}
