//! A CNN backbone as a stem and a stack of blocks, then global average pooling: the shape
//! of EfficientNet and ResNet alike. A family builds its blocks ([`Block`]) and its weight
//! places; this type is the [`Backbone`] for all of them — the frozen prefix (the stem and
//! the bottom blocks that do not train), the pooled features, the BatchNorm buffers.

use std::collections::BTreeMap;
use std::ops::Range;

use candle_core::Tensor;

use crate::error::{Error, Result};
use crate::model::backbone::{Backbone, Place};
use crate::model::bert::TrainLayers;
use crate::model::dropout::Mode;
use crate::model::inputs::BatchInputs;

use super::batch_norm::BatchNorm2d;
use super::conv_bn::{self, ConvBn};

/// One block of a CNN (or its stem): a function of a feature map, with its BatchNorm
/// layers.
pub trait Block: Send + Sync {
    /// The block's output for `x` `[batch, c, h, w]`, training in `mode`.
    fn forward(&self, x: &Tensor, mode: &Mode) -> Result<Tensor>;

    /// Its BatchNorm layers, in order.
    fn batch_norms(&self) -> Vec<&BatchNorm2d>;
}

/// A plain sequence of convolution units, with an optional skip from its input to its
/// output (EfficientNet's inverted residuals; a stem without one).
pub struct Sequence {
    /// The units in order.
    pub layers: Vec<ConvBn>,
    /// Whether the input is added to the output.
    pub skip: bool,
}

impl Block for Sequence {
    fn forward(&self, x: &Tensor, mode: &Mode) -> Result<Tensor> {
        let mut y = x.clone();
        for layer in &self.layers {
            y = layer.forward(&y, mode)?;
        }
        if self.skip {
            y = (y + x)?;
        }
        Ok(y)
    }

    fn batch_norms(&self) -> Vec<&BatchNorm2d> {
        self.layers.iter().map(|l| &l.bn).collect()
    }
}

/// Where each weight of a backbone sits, by name.
pub type PlaceFn = Box<dyn Fn(&str) -> Place + Send + Sync>;

/// A stem, blocks and global average pooling.
pub struct CnnBackbone {
    stem: Box<dyn Block>,
    blocks: Vec<Box<dyn Block>>,
    frozen_blocks: usize,
    prefix_floats: usize,
    features: usize,
    place: PlaceFn,
}

impl CnnBackbone {
    /// The backbone of `stem` and `blocks` whose pooled output has `features` channels;
    /// `frozen_blocks` never train (0 when the stem trains), their output has
    /// `prefix_floats` numbers per picture, and `place` says where each weight sits.
    pub fn new(
        stem: Box<dyn Block>,
        blocks: Vec<Box<dyn Block>>,
        (frozen_blocks, prefix_floats): (usize, usize),
        features: usize,
        place: PlaceFn,
    ) -> CnnBackbone {
        CnnBackbone {
            stem,
            blocks,
            frozen_blocks,
            prefix_floats,
            features,
            place,
        }
    }

    /// Every BatchNorm layer, from the stem up.
    fn batch_norms(&self) -> impl Iterator<Item = &BatchNorm2d> {
        std::iter::once(&self.stem)
            .chain(&self.blocks)
            .flat_map(|b| b.batch_norms())
    }

    /// The output of blocks `range` on `x`.
    fn run_blocks(&self, x: &Tensor, range: Range<usize>, mode: &Mode) -> Result<Tensor> {
        let mut y = x.clone();
        for block in &self.blocks[range] {
            y = block.forward(&y, mode)?;
        }
        Ok(y)
    }
}

impl Backbone for CnnBackbone {
    fn feature_size(&self) -> usize {
        self.features
    }

    fn features(&self, inputs: &BatchInputs, mode: &mut Mode) -> Result<Tensor> {
        let x = self.stem.forward(conv_bn::pixels(inputs)?, mode)?;
        conv_bn::global_average_pool(&self.run_blocks(&x, 0..self.blocks.len(), mode)?)
    }

    fn frozen_blocks(&self) -> usize {
        self.frozen_blocks
    }

    fn frozen_features(&self, inputs: &BatchInputs) -> Result<Tensor> {
        self.features(inputs, &mut Mode::eval())
    }

    fn features_from_frozen(&self, frozen: &Tensor) -> Result<Tensor> {
        Ok(frozen.clone())
    }

    /// Per image, the feature map `[c, h, w]` after the frozen stem and blocks.
    fn frozen_prefix(&self, inputs: &BatchInputs) -> Result<Vec<Tensor>> {
        let mode = Mode::eval();
        let x = self.stem.forward(conv_bn::pixels(inputs)?, &mode)?;
        let y = self.run_blocks(&x, 0..self.frozen_blocks, &mode)?;
        (0..y.dim(0)?)
            .map(|i| Ok(y.get(i)?.force_contiguous()?.detach()))
            .collect()
    }

    fn features_from_prefix(
        &self,
        prefix: &[&Tensor],
        _inputs: &BatchInputs,
        mode: &mut Mode,
    ) -> Result<Tensor> {
        let x = Tensor::stack(prefix, 0)?;
        let y = self.run_blocks(&x, self.frozen_blocks..self.blocks.len(), mode)?;
        conv_bn::global_average_pool(&y)
    }

    fn place(&self, name: &str) -> Place {
        (self.place)(name)
    }

    /// Channels × height × width after the frozen blocks, whatever the picture.
    fn prefix_floats(&self, _units: usize) -> usize {
        self.prefix_floats
    }

    fn set_buffers(&self, values: &BTreeMap<String, Tensor>) -> Result<()> {
        conv_bn::set_buffers(self.batch_norms(), values)
    }

    /// The BatchNorm running statistics.
    fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        conv_bn::buffers(self.batch_norms())
    }

    fn refresh_buffers(&self, on: bool) -> Result<()> {
        for bn in self.batch_norms() {
            bn.refresh_statistics(on)?;
        }
        Ok(())
    }
}

/// Which of `count` blocks train under `train_layers` (the top ones).
pub fn trainable_blocks(train_layers: TrainLayers, count: usize) -> Result<Vec<bool>> {
    let top = match train_layers {
        TrainLayers::All => count,
        TrainLayers::Top(n) if n <= count => n,
        TrainLayers::Top(n) => {
            return Err(Error::Invalid(format!(
                "--train-layers {n} is more than the model's {count} blocks (use `all` to train everything)"
            )))
        }
    };
    Ok((0..count).map(|i| i >= count - top).collect())
}

/// The blocks at the bottom that never train, under a frozen stem (0 when the stem trains).
pub fn frozen_blocks(stem_trains: bool, trains: &[bool]) -> usize {
    if stem_trains {
        0
    } else {
        trains.iter().take_while(|t| !**t).count()
    }
}
