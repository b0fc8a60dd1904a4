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
    /// While the running statistics are recomputed (SWA's `update_bn`): the batches seen,
    /// whose plain average replaces the momentum.
    refreshing: Mutex<Option<usize>>,
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
            refreshing: Mutex::new(None),
        })
    }

    /// Starts (`on`) or ends recomputing the running statistics from scratch: while on,
    /// each training pass's batch statistics are averaged with equal weight, as PyTorch's
    /// `torch.optim.swa_utils.update_bn` does (momentum `None`: a cumulative average).
    pub fn refresh_statistics(&self, on: bool) -> Result<()> {
        let mut refreshing = self
            .refreshing
            .lock()
            .map_err(|_| Error::Invalid(format!("{}: a training thread panicked", self.name)))?;
        *refreshing = on.then_some(0);
        Ok(())
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
            let momentum = {
                let mut refreshing = self.refreshing.lock().map_err(|_| {
                    Error::Invalid(format!("{}: a training thread panicked", self.name))
                })?;
                match refreshing.as_mut() {
                    Some(seen) => {
                        *seen += 1;
                        1.0 / *seen as f64
                    }
                    None => MOMENTUM,
                }
            };
            let mut running = self.lock()?;
            let unbiased = (var * (n as f64 / (n - 1) as f64))?;
            running.0 = ((&running.0 * (1.0 - momentum))? + (mean * momentum)?)?;
            running.1 = ((&running.1 * (1.0 - momentum))? + (unbiased * momentum)?)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;
    use rand::SeedableRng;

    /// Recomputing weighs every batch alike (PyTorch's momentum `None`); afterwards the
    /// momentum is back.
    #[test]
    fn refreshed_statistics_are_the_plain_average_of_the_batches() {
        let mut params = Params::from_tensors(Default::default(), &Device::Cpu, 0);
        let bn = BatchNorm2d::load(&mut params, "bn", 1, EPS, true, true).unwrap();
        let mode = Mode::train(rand_chacha::ChaCha8Rng::seed_from_u64(0));
        let batch = |values: [f32; 4]| {
            Tensor::from_vec(values.to_vec(), (2, 1, 1, 2), &Device::Cpu).unwrap()
        };
        let mean = |bn: &BatchNorm2d| bn.running().unwrap().0.to_vec1::<f32>().unwrap()[0];
        bn.refresh_statistics(true).unwrap();
        for values in [
            [1.0, 1.0, 1.0, 1.0],
            [3.0, 3.0, 3.0, 3.0],
            [8.0, 8.0, 8.0, 8.0],
        ] {
            bn.forward(&batch(values), &mode).unwrap();
        }
        assert!((mean(&bn) - 4.0).abs() < 1e-6, "{}", mean(&bn));
        bn.refresh_statistics(false).unwrap();
        bn.forward(&batch([14.0; 4]), &mode).unwrap();
        assert!((mean(&bn) - (0.9 * 4.0 + 0.1 * 14.0)).abs() < 1e-5);
    }
}
