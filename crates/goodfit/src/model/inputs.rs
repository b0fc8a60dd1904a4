//! What a model reads: one [`Example`] per row, made by the model's preprocessor (a
//! tokenizer for text), and [`BatchInputs`], a batch of them as tensors, made by a
//! [`Collator`]. Training and evaluation move examples around by row and never look inside.

use candle_core::{Device, Tensor};

use crate::error::{Error, Result};

/// One row's input, preprocessed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Example {
    /// A tokenised text: its token ids, special tokens included, truncated to the window.
    Tokens(Vec<u32>),
    /// A row made from features alone (oversampling of the frozen encoder's features): the
    /// backbone cannot run on it, only the head on its features.
    Synthetic,
}

impl Example {
    /// The example's size in the units a batch pads to (tokens); 0 for a synthetic row.
    pub fn size(&self) -> usize {
        match self {
            Example::Tokens(ids) => ids.len(),
            Example::Synthetic => 0,
        }
    }
}

/// A batch of model inputs, in the form a backbone reads them.
#[derive(Debug, Clone)]
pub enum BatchInputs {
    /// Tokenised texts: ids `[batch, seq]` (u32), padded, and the mask `[batch, seq]` (f32:
    /// 1 for tokens, 0 for padding).
    Text {
        /// Token ids.
        ids: Tensor,
        /// 1 for tokens, 0 for padding.
        mask: Tensor,
    },
    /// Images, resized to the model's input size and normalised: `[batch, 3, h, w]` (f32).
    Image {
        /// The pixels.
        pixels: Tensor,
    },
}

/// Makes batches of [`BatchInputs`] from examples: text is padded to the batch's longest
/// example with the model's padding id.
#[derive(Debug, Clone)]
pub struct Collator {
    pad_id: u32,
    device: Device,
}

/// A batch's inputs and how much of it is padding.
pub struct Collated {
    /// The batch.
    pub inputs: BatchInputs,
    /// Real units (tokens) in the batch.
    pub units: usize,
    /// Units computed, padding included.
    pub slots: usize,
}

impl Collator {
    /// A collator for tokenised text padded with `pad_id`, its tensors on `device`.
    pub fn text(pad_id: u32, device: Device) -> Collator {
        Collator { pad_id, device }
    }

    /// The device batches are made on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The examples as one batch, padded to the longest (dynamic padding).
    pub fn collate(&self, examples: &[&Example]) -> Result<Collated> {
        let longest = examples.iter().map(|e| e.size()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(examples.len() * longest);
        let mut mask = Vec::with_capacity(examples.len() * longest);
        let mut units = 0;
        for example in examples {
            let Example::Tokens(tokens) = example else {
                return Err(Error::Invalid(
                    "a synthetic (oversampled) row has no input for the model to read: it can only train a head on cached features".into(),
                ));
            };
            units += tokens.len();
            ids.extend_from_slice(tokens);
            ids.extend(std::iter::repeat_n(self.pad_id, longest - tokens.len()));
            mask.extend(std::iter::repeat_n(1f32, tokens.len()));
            mask.extend(std::iter::repeat_n(0f32, longest - tokens.len()));
        }
        let shape = (examples.len(), longest);
        Ok(Collated {
            inputs: BatchInputs::Text {
                ids: Tensor::from_vec(ids, shape, &self.device)?,
                mask: Tensor::from_vec(mask, shape, &self.device)?,
            },
            units,
            slots: examples.len() * longest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_pad_to_their_longest_and_synthetic_rows_are_refused() {
        let collator = Collator::text(0, Device::Cpu);
        let a = Example::Tokens(vec![101, 7, 102]);
        let b = Example::Tokens(vec![101, 102]);
        let batch = collator.collate(&[&a, &b]).unwrap();
        let BatchInputs::Text { ids, mask } = &batch.inputs else {
            panic!("text inputs")
        };
        assert_eq!(
            ids.to_vec2::<u32>().unwrap(),
            [[101, 7, 102], [101, 102, 0]]
        );
        assert_eq!(
            mask.to_vec2::<f32>().unwrap(),
            [[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]]
        );
        assert_eq!((batch.units, batch.slots), (5, 6));
        assert_eq!(b.size(), 2);
        let error = collator.collate(&[&a, &Example::Synthetic]).err().unwrap();
        assert!(error.to_string().contains("synthetic"), "{error}");
    }
}
