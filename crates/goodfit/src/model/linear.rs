//! A dense layer, `y = x·Wᵀ + b`, on inputs of any rank.

use candle_core::Tensor;

use crate::error::Result;

use super::params::{Init, Params};

/// A dense layer with PyTorch's weight layout (`[out, in]`).
#[derive(Debug, Clone)]
pub struct Linear {
    /// `[out, in]`.
    pub weight: Tensor,
    /// `[out]`.
    pub bias: Tensor,
}

impl Linear {
    /// Loads (or initialises) `name.weight` and `name.bias`.
    pub fn load(
        params: &mut Params,
        name: &str,
        inputs: usize,
        outputs: usize,
        trainable: bool,
    ) -> Result<Linear> {
        Ok(Linear {
            weight: params.get(
                &format!("{name}.weight"),
                &[outputs, inputs],
                trainable,
                Init::Normal(0.02),
            )?,
            bias: params.get(&format!("{name}.bias"), &[outputs], trainable, Init::Zeros)?,
        })
    }

    /// Applies the layer to the last dimension of `x`. Leading dimensions are flattened so
    /// the work is one matrix product.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.project(x)?.broadcast_add(&self.bias)?)
    }

    /// `x·Wᵀ` without the bias, for callers that fuse the bias into the next op.
    pub fn project(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims();
        let inputs = *dims.last().unwrap_or(&0);
        let rows = x.elem_count() / inputs.max(1);
        let y = x.reshape((rows, inputs))?.matmul(&self.weight.t()?)?;
        let mut out_dims = dims.to_vec();
        if let Some(last) = out_dims.last_mut() {
            *last = self.weight.dim(0)?;
        }
        Ok(y.reshape(out_dims)?)
    }
}
