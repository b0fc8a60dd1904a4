//! A convolution, its BatchNorm and an activation: the unit both EfficientNet and ResNet are
//! built from, and what every CNN backbone shares around it (reading pixels, global average
//! pooling, its BatchNorm buffers).

use std::collections::BTreeMap;

use candle_core::Tensor;

use crate::error::{Error, Result};
use crate::model::dropout::Mode;
use crate::model::inputs::BatchInputs;
use crate::model::params::Params;

use super::batch_norm::BatchNorm2d;
use super::conv::{Conv2d, ConvKind};

/// What follows a convolution's BatchNorm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Nothing (before a residual addition, or a linear bottleneck).
    Identity,
    /// `max(x, 0)` (ResNet).
    Relu,
    /// `min(max(x, 0), 6)` (EfficientNet-Lite, MobileNet).
    Relu6,
}

impl Activation {
    /// This activation where `on`, none otherwise.
    pub fn when(self, on: bool) -> Activation {
        if on {
            self
        } else {
            Activation::Identity
        }
    }

    /// The activation of `x`.
    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Activation::Identity => x.clone(),
            Activation::Relu => x.relu()?,
            Activation::Relu6 => x.clamp(0f32, 6f32)?,
        })
    }
}

/// A convolution, its BatchNorm and its activation.
pub struct ConvBn {
    /// The convolution.
    pub conv: Conv2d,
    /// The BatchNorm after it.
    pub bn: BatchNorm2d,
    /// The activation after that.
    pub act: Activation,
}

impl ConvBn {
    /// Loads the convolution `conv` (`[out, in / groups, k, k]` = `shape`, at `stride`) and
    /// its BatchNorm `bn` with epsilon `eps`, followed by `act`; `trainable` says whether
    /// they train, `bn_freeze` keeps the BatchNorm's statistics frozen even then.
    pub fn load(
        params: &mut Params,
        (conv, bn): (&str, &str),
        shape: [usize; 4],
        (stride, kind): (usize, ConvKind),
        act: Activation,
        eps: f64,
        (trainable, bn_freeze): (bool, bool),
    ) -> Result<ConvBn> {
        let [out, per_filter, k, _] = shape;
        let inputs = match kind {
            ConvKind::Depthwise => out,
            ConvKind::Dense => per_filter,
        };
        Ok(ConvBn {
            conv: Conv2d::load(params, conv, (inputs, out), k, stride, kind, trainable)?,
            bn: BatchNorm2d::load(params, bn, out, eps, trainable, trainable && !bn_freeze)?,
            act,
        })
    }

    /// The three in order, training in `mode`.
    pub fn forward(&self, x: &Tensor, mode: &Mode) -> Result<Tensor> {
        self.act
            .apply(&self.bn.forward(&self.conv.forward(x)?, mode)?)
    }
}

/// The pixels of an image batch; an error naming the mismatch for text.
pub fn pixels(inputs: &BatchInputs) -> Result<&Tensor> {
    match inputs {
        BatchInputs::Image { pixels } => Ok(pixels),
        BatchInputs::Text { .. } => Err(Error::Invalid(
            "an image model was given text: use a text model for text data".into(),
        )),
    }
}

/// Global average pooling: `[batch, c, h, w]` → `[batch, c]`.
pub fn global_average_pool(x: &Tensor) -> Result<Tensor> {
    Ok(x.mean((2, 3))?)
}

/// The running statistics of `layers`, by name.
pub fn buffers<'a>(layers: impl Iterator<Item = &'a BatchNorm2d>) -> Result<Vec<(String, Tensor)>> {
    let mut all = Vec::new();
    for bn in layers {
        all.extend(bn.buffers()?);
    }
    Ok(all)
}

/// Sets the running statistics of `layers` found in `values`.
pub fn set_buffers<'a>(
    layers: impl Iterator<Item = &'a BatchNorm2d>,
    values: &BTreeMap<String, Tensor>,
) -> Result<()> {
    for bn in layers {
        for (name, _) in bn.buffers()? {
            if let Some(value) = values.get(&name) {
                bn.set_buffer(&name, value)?;
            }
        }
    }
    Ok(())
}
