//! What a model reads: one [`Example`] per row, made by the model's preprocessor (a
//! tokenizer for text), and [`BatchInputs`], a batch of them as tensors, made by a
//! [`Collator`]. Training and evaluation move examples around by row and never look inside.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use candle_core::{Device, Tensor};

use crate::error::{Error, Result};

use super::image_augment::ImageAugment;
use super::image_transform::ImageTransform;

/// One row's input, preprocessed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Example {
    /// A tokenised text: its token ids, special tokens included, truncated to the window.
    Tokens(Vec<u32>),
    /// A picture, read from its file when batched (kept as a path: decoded pixels of a few
    /// hundred photos would take gigabytes).
    Image(PathBuf),
    /// A row made from features alone (oversampling of the frozen encoder's features): the
    /// backbone cannot run on it, only the head on its features.
    Synthetic,
}

impl Example {
    /// The picture's file, for an image example (the report shows it).
    pub fn picture(&self) -> Option<&std::path::Path> {
        match self {
            Example::Image(path) => Some(path),
            _ => None,
        }
    }

    /// The example's size in the units a batch pads to (tokens); 0 for a synthetic row.
    pub fn size(&self) -> usize {
        match self {
            Example::Tokens(ids) => ids.len(),
            Example::Image(_) => 1,
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

impl BatchInputs {
    /// The batch with its pictures replaced by `change(pixels)` (mixup, CutMix), so that
    /// training mixes pictures without knowing how a batch holds them; an error for text.
    pub fn with_pictures(
        &self,
        change: impl FnOnce(&Tensor) -> Result<Tensor>,
    ) -> Result<BatchInputs> {
        match self {
            BatchInputs::Image { pixels } => Ok(BatchInputs::Image {
                pixels: change(pixels)?,
            }),
            BatchInputs::Text { .. } => Err(Error::Invalid(
                "mixing pictures needs pictures: this batch is text".into(),
            )),
        }
    }
}

/// Makes batches of [`BatchInputs`] from examples: text is padded to the batch's longest
/// example with the model's padding id; pictures are read and transformed.
#[derive(Debug, Clone)]
pub struct Collator {
    kind: Kind,
    device: Device,
}

#[derive(Debug, Clone)]
enum Kind {
    Text { pad_id: u32 },
    Image(ImageTransform, Option<Augmenting>),
}

/// Training pictures' random changes and the generator they draw from (one per epoch,
/// shared by the epoch's batches, which run in order).
#[derive(Debug, Clone)]
struct Augmenting {
    augment: ImageAugment,
    rng: Arc<Mutex<ChaCha8Rng>>,
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
        Collator {
            kind: Kind::Text { pad_id },
            device,
        }
    }

    /// A collator for pictures, read and transformed by `transform`, on `device`.
    pub fn image(transform: ImageTransform, device: Device) -> Collator {
        Collator {
            kind: Kind::Image(transform, None),
            device,
        }
    }

    /// This collator with `augment` applied to every picture it reads, drawn from `seed`
    /// (a training epoch's); a text collator, or `augment` off, is returned as it is.
    pub fn augmented(&self, augment: ImageAugment, seed: u64) -> Collator {
        let mut collator = self.clone();
        if let Kind::Image(_, augmenting) = &mut collator.kind {
            *augmenting = augment.is_on().then(|| Augmenting {
                augment,
                rng: Arc::new(Mutex::new(ChaCha8Rng::seed_from_u64(seed))),
            });
        }
        collator
    }

    /// The device batches are made on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The examples as one batch, padded to the longest (dynamic padding).
    pub fn collate(&self, examples: &[&Example]) -> Result<Collated> {
        let pad_id = match &self.kind {
            Kind::Text { pad_id } => *pad_id,
            Kind::Image(transform, augmenting) => {
                return self.collate_images(transform, augmenting.as_ref(), examples)
            }
        };
        let longest = examples.iter().map(|e| e.size()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(examples.len() * longest);
        let mut mask = Vec::with_capacity(examples.len() * longest);
        let mut units = 0;
        for example in examples {
            let tokens = match example {
                Example::Tokens(tokens) => tokens,
                Example::Synthetic => return Err(synthetic()),
                Example::Image(_) => {
                    return Err(Error::Invalid("a text model was given an image".into()))
                }
            };
            units += tokens.len();
            ids.extend_from_slice(tokens);
            ids.extend(std::iter::repeat_n(pad_id, longest - tokens.len()));
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

impl Collator {
    /// The pictures as one `[batch, 3, size, size]` batch.
    fn collate_images(
        &self,
        transform: &ImageTransform,
        augmenting: Option<&Augmenting>,
        examples: &[&Example],
    ) -> Result<Collated> {
        let pixels = examples
            .iter()
            .map(|example| match (example, augmenting) {
                (Example::Image(path), None) => transform.load(path, &self.device),
                (Example::Image(path), Some(a)) => {
                    let picture = ImageTransform::decode(path)?;
                    let mut rng = a.rng.lock().map_err(|_| {
                        Error::Invalid("a training thread panicked while augmenting".into())
                    })?;
                    let changed = a.augment.apply(&picture, transform.size as u32, &mut rng);
                    transform.tensor(&changed, &self.device)
                }
                (Example::Synthetic, _) => Err(synthetic()),
                (Example::Tokens(_), _) => {
                    Err(Error::Invalid("an image model was given text".into()))
                }
            })
            .collect::<Result<Vec<Tensor>>>()?;
        Ok(Collated {
            inputs: BatchInputs::Image {
                pixels: Tensor::stack(&pixels, 0)?,
            },
            units: examples.len(),
            slots: examples.len(),
        })
    }
}

fn synthetic() -> Error {
    Error::Invalid(
        "a synthetic (oversampled) row has no input for the model to read: it can only train a head on cached features".into(),
    )
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
