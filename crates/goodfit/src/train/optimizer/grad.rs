//! Gradient helpers a fine-tuning loop needs: the global norm, clipping by it
//! (torch's `clip_grad_norm_`), and accumulation over micro-batches.

use std::collections::HashSet;

use candle_core::backprop::GradStore;
use candle_core::{bail, CpuStorage, DType, Result, Storage, Tensor, TensorId, Var};

/// Sum of squares of a tensor's elements, in f64.
fn sum_squares(t: &Tensor) -> Result<f64> {
    if t.device().is_cpu() && t.dtype() == DType::F32 {
        let (storage, layout) = t.storage_and_layout();
        if let (Storage::Cpu(CpuStorage::F32(data)), Some((a, b))) =
            (&*storage, layout.contiguous_offsets())
        {
            if let Some(data) = data.get(a..b) {
                // Eight independent accumulators let the loop vectorise.
                let mut acc = [0f64; 8];
                let chunks = data.chunks_exact(8);
                let rest: f64 = chunks
                    .remainder()
                    .iter()
                    .map(|&x| f64::from(x).powi(2))
                    .sum();
                for c in chunks {
                    for (a, &x) in acc.iter_mut().zip(c) {
                        *a += f64::from(x) * f64::from(x);
                    }
                }
                return Ok(acc.iter().sum::<f64>() + rest);
            }
        }
    }
    t.to_dtype(DType::F64)?.sqr()?.sum_all()?.to_scalar::<f64>()
}

/// The global L2 norm of the gradients of `params` (those that have one; a parameter
/// listed twice counts once), summed in f64. torch sums in the gradients' dtype; the
/// difference is rounding.
pub fn grad_norm<'a>(grads: &GradStore, params: impl IntoIterator<Item = &'a Var>) -> Result<f64> {
    let mut seen = HashSet::new();
    let mut total_sq = 0.0;
    for var in params {
        if seen.insert(var.id()) {
            if let Some(g) = grads.get(var) {
                total_sq += sum_squares(g)?;
            }
        }
    }
    Ok(total_sq.sqrt())
}

/// The factor `torch.nn.utils.clip_grad_norm_` multiplies gradients by:
/// `min(1, max_norm / (total_norm + 1e-6))`. Unlike torch, a non-finite norm gives 1
/// (gradients left as they are rather than turned into NaN): check the norm and skip
/// the step instead.
pub fn clip_coefficient(total_norm: f64, max_norm: f64) -> Result<f64> {
    if !(max_norm.is_finite() && max_norm >= 0.0) {
        bail!("gradient clipping: max_norm must be finite and not negative, got {max_norm}")
    }
    let coef = max_norm / (total_norm + 1e-6);
    Ok(if total_norm.is_finite() && coef < 1.0 {
        coef
    } else {
        1.0
    })
}

/// Scales the gradients of `params` so that their global L2 norm is at most `max_norm`,
/// as `torch.nn.utils.clip_grad_norm_` does: the total norm ([`grad_norm`]) is the L2
/// norm over all their gradients together; each gradient is multiplied by
/// [`clip_coefficient`]. Returns the total norm before clipping (log it: a run whose
/// norms are always clipped wants a lower learning rate).
///
/// Parameters without a gradient are ignored, and a parameter listed twice counts once.
/// Scaling writes a new tensor per gradient; [`AdamW::step_with_grad_scale`] fuses it
/// into the update instead.
pub fn clip_grad_norm<'a>(
    grads: &mut GradStore,
    params: impl IntoIterator<Item = &'a Var>,
    max_norm: f64,
) -> Result<f64> {
    let params: Vec<&Var> = params.into_iter().collect();
    let total = grad_norm(grads, params.iter().copied())?;
    let coef = clip_coefficient(total, max_norm)?;
    if coef != 1.0 {
        let mut seen = HashSet::new();
        for var in params {
            if !seen.insert(var.id()) {
                continue;
            }
            if let Some(g) = grads.get(var) {
                let scaled = g.affine(coef, 0.0)?;
                grads.insert(var, scaled);
            }
        }
    }
    Ok(total)
}

/// Adds the gradients of `params` in `grads` (one micro-batch's backward pass) into
/// `total`, creating it on the first call. Only the parameters' gradients are kept, so
/// the many intermediate gradients candle's backward pass returns are freed with
/// `grads`. The caller scales the loss by 1/micro-batches (as transformers does) so
/// that the sum is the mean gradient, then passes `total` to [`AdamW::step`] and
/// resets it to `None`.
pub fn accumulate<'a>(
    total: &mut Option<GradStore>,
    grads: &GradStore,
    params: impl IntoIterator<Item = &'a Var>,
) -> Result<()> {
    let acc = total.get_or_insert_with(GradStore::default);
    let mut seen: HashSet<TensorId> = HashSet::new();
    for var in params {
        if !seen.insert(var.id()) {
            continue;
        }
        if let Some(g) = grads.get(var) {
            let sum = match acc.get(var) {
                Some(prev) => prev.add(g)?.detach(),
                None => g.detach(),
            };
            acc.insert(var, sum);
        }
    }
    Ok(())
}
