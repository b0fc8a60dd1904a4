//! BatchNorm over a batch's statistics, `[batch, channels, h, w]`, both ways in one pass
//! each, with every per-channel sum taken in f64.
//!
//! Composed from candle ops, the f64 sums BatchNorm needs (see `model/cnn/batch_norm.rs`)
//! meant converting the whole activation to f64, and candle's graph kept those copies for
//! the backward pass: training every layer of EfficientNet-Lite0 took 6.7 GiB at batch 8
//! and ran out of memory at batch 32. Here the forward keeps nothing but its f32 input and
//! the per-channel statistics it computed once, which the running statistics and the
//! backward pass both read.

use std::sync::{Arc, Mutex};

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::cpu_storage::{all_cpu_f32, contiguous_f32};

/// `(x − μ)/√(σ² + eps)·weight + bias` with μ and σ² (biased) the per-channel mean and
/// variance of `x` over batch, height and width, and those statistics `[2, channels]`
/// (mean, then biased variance) without gradients. Gradients reach `x`, `weight` and
/// `bias`. On the CPU with `f32` tensors both directions are the kernels below; elsewhere
/// composed candle ops in f64.
pub fn batch_norm_train(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    eps: f64,
) -> Result<(Tensor, Tensor)> {
    if all_cpu_f32(&[x, weight, bias]) {
        let stats = Statistics::default();
        let y = x.apply_op3(
            weight,
            bias,
            BatchNormOp {
                eps,
                stats: stats.clone(),
            },
        )?;
        let per_channel = stats.get()?;
        let mut values: Vec<f32> = per_channel.iter().map(|s| s.0 as f32).collect();
        values.extend(per_channel.iter().map(|s| s.1 as f32));
        let stats = Tensor::from_vec(values, (2, per_channel.len()), x.device())?;
        return Ok((y, stats));
    }
    let channels = weight.dim(0)?;
    let shape = (1, channels, 1, 1);
    let wide = x.to_dtype(candle_core::DType::F64)?;
    let mean = wide.mean_keepdim((0, 2, 3))?;
    let centred = wide.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim((0, 2, 3))?;
    let y = centred
        .broadcast_div(&(&var + eps)?.sqrt()?)?
        .to_dtype(x.dtype())?
        .broadcast_mul(&weight.reshape(shape)?)?
        .broadcast_add(&bias.reshape(shape)?)?;
    let stats = Tensor::stack(&[mean.flatten_all()?, var.flatten_all()?], 0)?
        .to_dtype(x.dtype())?
        .detach();
    Ok((y, stats))
}

/// The sizes of `[batch, channels, h, w]`.
fn dims(x: &Layout) -> Result<(usize, usize, usize)> {
    let &[batch, channels, h, w] = x.dims() else {
        candle_core::bail!("batch_norm: the input must be [batch, channels, h, w]")
    };
    Ok((batch, channels, h * w))
}

/// Per channel, the mean and the biased variance, summed in f64 (two passes).
fn statistics(x: &[f32], batch: usize, channels: usize, plane: usize) -> Vec<(f64, f64)> {
    let count = (batch * plane).max(1) as f64;
    (0..channels)
        .into_par_iter()
        .map(|c| {
            let planes = || (0..batch).map(move |n| &x[(n * channels + c) * plane..][..plane]);
            let mean = planes().flatten().map(|&v| f64::from(v)).sum::<f64>() / count;
            let var = planes()
                .flatten()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / count;
            (mean, var)
        })
        .collect()
}

/// The per-channel (mean, biased variance) the forward kernel computed, shared with the
/// caller and the backward pass.
#[derive(Clone, Default)]
struct Statistics(Arc<Mutex<Vec<(f64, f64)>>>);

impl Statistics {
    fn set(&self, stats: Vec<(f64, f64)>) -> Result<()> {
        *self
            .0
            .lock()
            .map_err(|_| candle_core::Error::msg("batch_norm: a thread panicked"))? = stats;
        Ok(())
    }

    fn get(&self) -> Result<Vec<(f64, f64)>> {
        Ok(self
            .0
            .lock()
            .map_err(|_| candle_core::Error::msg("batch_norm: a thread panicked"))?
            .clone())
    }
}

struct BatchNormOp {
    eps: f64,
    stats: Statistics,
}

impl CustomOp3 for BatchNormOp {
    fn name(&self) -> &'static str {
        "goodfit-batch-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (batch, channels, plane) = dims(l1)?;
        if l2.dims() != [channels] || l3.dims() != [channels] {
            candle_core::bail!("batch_norm: weight and bias must hold one value per channel")
        }
        let x = contiguous_f32(s1, l1)?;
        let (w, b) = (contiguous_f32(s2, l2)?, contiguous_f32(s3, l3)?);
        let stats = statistics(&x, batch, channels, plane);
        self.stats.set(stats.clone())?;
        let mut y = vec![0f32; x.len()];
        if plane > 0 {
            y.par_chunks_mut(plane).enumerate().for_each(|(p, out)| {
                let c = p % channels;
                let (mean, var) = stats[c];
                let scale = f64::from(w[c]) / (var + self.eps).sqrt();
                let shift = f64::from(b[c]) - mean * scale;
                let (scale, shift) = (scale as f32, shift as f32);
                for (o, &v) in out.iter_mut().zip(&x[p * plane..(p + 1) * plane]) {
                    *o = v * scale + shift;
                }
            });
        }
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _bias: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let backward = BatchNormBwd {
            eps: self.eps,
            stats: self.stats.get()?,
        };
        let packed = x.apply_op3_no_bwd(weight, grad_res, &backward)?;
        let (n, c) = (x.elem_count(), weight.elem_count());
        let dx = packed.narrow(0, 0, n)?.reshape(x.shape())?;
        let dw = packed.narrow(0, n, c)?;
        let db = packed.narrow(0, n + c, c)?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}

/// `(x, weight, dy) → packed`: dx, then dweight, then dbias, from the forward's statistics.
struct BatchNormBwd {
    eps: f64,
    stats: Vec<(f64, f64)>,
}

impl CustomOp3 for BatchNormBwd {
    fn name(&self) -> &'static str {
        "goodfit-batch-norm-bwd"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (batch, channels, plane) = dims(l1)?;
        if l3.dims() != l1.dims() {
            candle_core::bail!("batch_norm backward: gradient shape differs from the input's")
        }
        let x = contiguous_f32(s1, l1)?;
        let w = contiguous_f32(s2, l2)?;
        let dy = contiguous_f32(s3, l3)?;
        let stats = &self.stats;
        if stats.len() != channels {
            candle_core::bail!("batch_norm backward: no statistics from the forward pass")
        }
        let count = (batch * plane).max(1) as f64;
        // Per channel: Σ dy and Σ dy·x̂, in f64.
        let sums: Vec<(f64, f64)> = (0..channels)
            .into_par_iter()
            .map(|c| {
                let (mean, var) = stats[c];
                let inv = 1.0 / (var + self.eps).sqrt();
                let (mut sum, mut dot) = (0f64, 0f64);
                for n in 0..batch {
                    let at = (n * channels + c) * plane;
                    for (&g, &v) in dy[at..at + plane].iter().zip(&x[at..at + plane]) {
                        sum += f64::from(g);
                        dot += f64::from(g) * (f64::from(v) - mean) * inv;
                    }
                }
                (sum, dot)
            })
            .collect();
        let mut packed = vec![0f32; x.len() + 2 * channels];
        let (dx, rest) = packed.split_at_mut(x.len());
        if plane > 0 {
            dx.par_chunks_mut(plane).enumerate().for_each(|(p, out)| {
                let c = p % channels;
                let (mean, var) = stats[c];
                let inv = 1.0 / (var + self.eps).sqrt();
                let (sum, dot) = sums[c];
                let k = f64::from(w[c]) * inv;
                let (mean_dy, mean_dot) = (sum / count, dot / count);
                let at = p * plane;
                for ((o, &g), &v) in out
                    .iter_mut()
                    .zip(&dy[at..at + plane])
                    .zip(&x[at..at + plane])
                {
                    let xhat = (f64::from(v) - mean) * inv;
                    *o = (k * (f64::from(g) - mean_dy - xhat * mean_dot)) as f32;
                }
            });
        }
        for c in 0..channels {
            rest[c] = sums[c].1 as f32;
            rest[channels + c] = sums[c].0 as f32;
        }
        let len = packed.len();
        Ok((CpuStorage::F32(packed), Shape::from(len)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::cpu_storage::testing::{max_abs_diff, random};
    use super::*;
    use candle_core::Var;

    /// The kernels against the same formula in composed f64 candle ops (run on f64
    /// tensors, which take the composed path), both ways.
    #[test]
    fn matches_composed_ops_both_ways() {
        let run = |dtype: candle_core::DType| {
            let x =
                Var::from_tensor(&random(&[3, 4, 5, 6], 3.0, 1).to_dtype(dtype).unwrap()).unwrap();
            let w = Var::from_tensor(&random(&[4], 1.0, 2).to_dtype(dtype).unwrap()).unwrap();
            let b = Var::from_tensor(&random(&[4], 1.0, 3).to_dtype(dtype).unwrap()).unwrap();
            let (y, stats) =
                batch_norm_train(x.as_tensor(), w.as_tensor(), b.as_tensor(), 1e-5).unwrap();
            let r = random(&[3, 4, 5, 6], 1.0, 4).to_dtype(dtype).unwrap();
            let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let get = |v: &Var| grads.get(v.as_tensor()).unwrap().clone();
            (y, stats, get(&x), get(&w), get(&b))
        };
        let fused = run(candle_core::DType::F32);
        let composed = run(candle_core::DType::F64);
        for (a, b, what) in [
            (&fused.0, &composed.0, "y"),
            (&fused.1, &composed.1, "stats"),
            (&fused.2, &composed.2, "dx"),
            (&fused.3, &composed.3, "dweight"),
            (&fused.4, &composed.4, "dbias"),
        ] {
            let diff = max_abs_diff(a, b);
            assert!(diff < 2e-5, "{what}: {diff}");
        }
    }
}
