//! `torch.nn.BatchNorm2d`: per-channel normalisation by the batch's statistics in training
//! (updating the running statistics, as PyTorch does, with momentum and the unbiased
//! variance) and by the running statistics in evaluation.
//!
//! The running statistics are buffers, not weights: nothing trains them, a checkpoint keeps
//! them, and a layer whose statistics are frozen (a frozen block, or fastai's `BnFreeze`
//! for every layer) normalises by them in training too, so that a frozen layer computes the
//! same output every epoch, as the frozen-prefix cache needs.

use std::sync::Mutex;

use candle_core::{DType, Tensor};

use crate::error::{Error, Result};
use crate::model::dropout::Mode;
use crate::model::kernels::batch_norm::batch_norm_train;
use crate::model::params::{Init, Params};

/// PyTorch's defaults.
pub const EPS: f64 = 1e-5;
/// The weight of a batch's statistics in the running ones (PyTorch's `momentum`).
pub const MOMENTUM: f64 = 0.1;

/// A BatchNorm layer over `channels` channels of `[batch, channels, h, w]` inputs.
pub struct BatchNorm2d {
    name: String,
    weight: Tensor,
    bias: Tensor,
    running: Mutex<(Tensor, Tensor)>,
    eps: f64,
    /// Whether training passes update and use batch statistics (false: frozen statistics).
    batch_stats: bool,
}

impl BatchNorm2d {
    /// Loads `name.weight`, `name.bias` (trainable or not) and the buffers
    /// `name.running_mean`, `name.running_var` (zeros and ones when the checkpoint lacks
    /// them); `batch_stats` says whether training passes normalise by the batch.
    pub fn load(
        params: &mut Params,
        name: &str,
        channels: usize,
        eps: f64,
        trainable: bool,
        batch_stats: bool,
    ) -> Result<BatchNorm2d> {
        let weight = params.get(
            &format!("{name}.weight"),
            &[channels],
            trainable,
            Init::Ones,
        )?;
        let bias = params.get(&format!("{name}.bias"), &[channels], trainable, Init::Zeros)?;
        let mean = params.buffer(&format!("{name}.running_mean"), &[channels], Init::Zeros)?;
        let var = params.buffer(&format!("{name}.running_var"), &[channels], Init::Ones)?;
        Ok(BatchNorm2d {
            name: name.to_string(),
            weight,
            bias,
            running: Mutex::new((mean, var)),
            eps,
            batch_stats,
        })
    }

    /// Normalises `x` `[batch, channels, h, w]`: by the batch in a training pass (when
    /// this layer's statistics are not frozen), updating the running statistics; by the
    /// running statistics otherwise.
    pub fn forward(&self, x: &Tensor, mode: &Mode) -> Result<Tensor> {
        let channels = self.weight.dim(0)?;
        let shape = (1, channels, 1, 1);
        if mode.is_training() && self.batch_stats {
            let (batch, _, h, w) = x.dims4()?;
            let n = batch * h * w;
            if n < 2 {
                return Err(Error::Invalid(format!(
                    "{}: BatchNorm needs more than one value per channel in training (a batch of one 1×1 map)",
                    self.name
                )));
            }
            // The statistics sum batch × h × w values per channel (25,088 for two 112×112
            // maps). Summed in f32 one value after another they drift by about 1e-4 of their
            // size, which 17 layers of batch statistics grow until a ReLU6 flips: measured on
            // EfficientNet-Lite0, the top BatchNorm's gradient came out 1e-3 off PyTorch's.
            // The fused kernel sums in f64 (tests/cnn_reference.rs).
            let (y, stats) = batch_norm_train(x, &self.weight, &self.bias, self.eps)?;
            let (mean, var) = (stats.get(0)?, stats.get(1)?);
            let mut running = self.lock()?;
            let unbiased = (var * (n as f64 / (n - 1) as f64))?;
            running.0 = ((&running.0 * (1.0 - MOMENTUM))? + (mean * MOMENTUM)?)?;
            running.1 = ((&running.1 * (1.0 - MOMENTUM))? + (unbiased * MOMENTUM)?)?;
            return Ok(y);
        }
        // y = x·s + (b − μ·s) with s = γ/√(σ² + ε): one multiply and one add per value.
        let (mean, var) = self.running()?;
        let scale = (&self.weight / (var + self.eps)?.sqrt()?)?;
        let shift = (&self.bias - (mean * &scale)?)?;
        Ok(x.broadcast_mul(&scale.reshape(shape)?)?
            .broadcast_add(&shift.reshape(shape)?)?)
    }

    /// The running mean and variance now.
    pub fn running(&self) -> Result<(Tensor, Tensor)> {
        Ok(self.lock()?.clone())
    }

    /// The buffers by name (`….running_mean`, `….running_var`), for checkpoints and saving.
    pub fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        let (mean, var) = self.running()?;
        Ok(vec![
            (format!("{}.running_mean", self.name), mean),
            (format!("{}.running_var", self.name), var),
        ])
    }

    /// Sets a running statistic by its buffer name, when it is one of this layer's
    /// (restoring a checkpoint); returns whether it was.
    pub fn set_buffer(&self, name: &str, value: &Tensor) -> Result<bool> {
        let Some(which) = name.strip_prefix(&self.name) else {
            return Ok(false);
        };
        let mut running = self.lock()?;
        let slot = match which {
            ".running_mean" => &mut running.0,
            ".running_var" => &mut running.1,
            _ => return Ok(false),
        };
        if value.dims() != slot.dims() {
            return Err(Error::Invalid(format!(
                "buffer '{name}' has shape {:?}, expected {:?}",
                value.dims(),
                slot.dims()
            )));
        }
        *slot = value.to_dtype(DType::F32)?;
        Ok(true)
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, (Tensor, Tensor)>> {
        self.running
            .lock()
            .map_err(|_| Error::Invalid(format!("{}: a training thread panicked", self.name)))
    }
}
