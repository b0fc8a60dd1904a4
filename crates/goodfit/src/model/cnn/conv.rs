//! A 2-D convolution without bias, `torch.nn.Conv2d(bias=False)`, as the convolutions of
//! EfficientNet and ResNet are (BatchNorm follows each), with symmetric zero padding.
//!
//! Three kinds run three ways: a 1×1 convolution at stride 1 is a matrix product over the
//! pixels (candle's convolution would build an im2col copy of the input first); a depthwise
//! one (a filter per channel) is goodfit's kernel
//! ([`crate::model::kernels::depthwise_conv`]); any other is a matrix product with the
//! input's columns ([`crate::model::kernels::im2col`]: candle's own backward is a direct
//! loop), or candle's `conv2d` on another device.

use candle_core::Tensor;

use crate::error::{Error, Result};
use crate::model::kernels::cpu_storage::all_cpu_f32;
use crate::model::kernels::depthwise_conv::{depthwise_conv2d, DepthwiseConv};
use crate::model::kernels::im2col::{self, Window};
use crate::model::params::{Init, Params};

/// How a convolution's filters meet its input channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConvKind {
    /// Every output channel reads every input channel.
    Dense,
    /// One filter per channel (`groups == channels`).
    Depthwise,
}

/// A convolution's weight `[out, in / groups, k, k]` and geometry.
#[derive(Debug, Clone)]
pub struct Conv2d {
    /// The filters.
    pub weight: Tensor,
    kind: ConvKind,
    stride: usize,
    padding: usize,
}

impl Conv2d {
    /// Loads `name.weight`, a `k`×`k` convolution from `inputs` to `outputs` channels
    /// (equal for a depthwise one) at `stride`, padded as timm pads symmetrically:
    /// `((stride − 1) + (k − 1)) / 2` on each side.
    pub fn load(
        params: &mut Params,
        name: &str,
        (inputs, outputs): (usize, usize),
        k: usize,
        stride: usize,
        kind: ConvKind,
        trainable: bool,
    ) -> Result<Conv2d> {
        if kind == ConvKind::Depthwise && inputs != outputs {
            return Err(Error::Invalid(format!(
                "{name}: a depthwise convolution keeps its {inputs} channels, not {outputs}"
            )));
        }
        let per_filter = match kind {
            ConvKind::Dense => inputs,
            ConvKind::Depthwise => 1,
        };
        // He initialisation, fan-out mode (torchvision and timm init conv weights this way).
        let std = (2.0 / (outputs * k * k) as f64).sqrt();
        let weight = params.get(
            &format!("{name}.weight"),
            &[outputs, per_filter, k, k],
            trainable,
            Init::Normal(std),
        )?;
        Ok(Conv2d {
            weight,
            kind,
            stride,
            padding: ((stride - 1) + (k - 1)) / 2,
        })
    }

    /// Input channels.
    pub fn inputs(&self) -> usize {
        match self.kind {
            ConvKind::Dense => self.weight.dims()[1],
            ConvKind::Depthwise => self.weight.dims()[0],
        }
    }

    /// Output channels.
    pub fn outputs(&self) -> usize {
        self.weight.dims()[0]
    }

    /// The step between output positions.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The convolution of `x` `[batch, in, h, w]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (out, _, k, _) = self.weight.dims4()?;
        Ok(match self.kind {
            ConvKind::Depthwise => depthwise_conv2d(
                x,
                &self.weight,
                DepthwiseConv {
                    stride: self.stride,
                    padding: self.padding,
                },
            )?,
            ConvKind::Dense if k == 1 && self.stride == 1 => {
                let (batch, inputs, h, w) = x.dims4()?;
                let filters = self.weight.reshape((out, inputs))?;
                filters
                    .broadcast_matmul(&x.reshape((batch, inputs, h * w))?)?
                    .reshape((batch, out, h, w))?
            }
            ConvKind::Dense if all_cpu_f32(&[x, &self.weight]) => im2col::conv2d(
                x,
                &self.weight,
                Window {
                    k,
                    stride: self.stride,
                    padding: self.padding,
                },
            )?,
            ConvKind::Dense => x.conv2d(&self.weight, self.padding, self.stride, 1, 1)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn a_pointwise_product_is_candle_s_1x1_convolution() {
        let mut params = Params::from_tensors(Default::default(), &Device::Cpu, 3);
        let conv = Conv2d::load(&mut params, "pw", (5, 7), 1, 1, ConvKind::Dense, false).unwrap();
        let x = Tensor::randn(0f32, 1.0, (2, 5, 4, 3), &Device::Cpu).unwrap();
        let want = x.conv2d(&conv.weight, 0, 1, 1, 1).unwrap();
        let got = conv.forward(&x).unwrap();
        let diff: f32 = (want - got)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(diff < 1e-5, "{diff}");
        let error = Conv2d::load(&mut params, "dw", (4, 8), 3, 1, ConvKind::Depthwise, false)
            .err()
            .unwrap();
        assert!(error.to_string().contains("depthwise"), "{error}");
    }
}
