//! Attention weights in one pass each way: scale, padding mask and softmax fused.
//!
//! Self-attention turns raw scores `q·kᵀ` into weights with
//! `softmax(scores / √d + mask)`. candle's fused `softmax_last_dim` has no backward, and the
//! composed softmax is five ops (max, subtract, exp, sum, divide), plus the scale and the
//! mask add: seven passes over a `[batch, heads, seq, seq]` tensor forward and more
//! backward, with a scalar `expf` per element. [`attention_softmax`] runs one pass forward,
//! with the vectorised `exp` of [`super::fast_math`], and one backward.

use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor, D};

use super::cpu_storage::{all_cpu_f32, contiguous_f32};
use super::fast_math::{self, exp, vectorised};

/// `softmax(scores · scale + mask)` over the last dimension.
///
/// `scores` is `[batch, …, keys]` (in BERT `[batch, heads, queries, keys]`); `mask` is
/// `[batch, keys]`, added to every row of its example: 0 where a token may be attended and a
/// large negative number at padding. Gradients reach `scores` only (the mask is a constant).
/// On the CPU with `f32` tensors both directions are fused kernels; elsewhere the composed
/// candle ops run.
///
/// # Errors
/// When the mask's shape does not fit the scores, or dtypes and devices disagree.
pub fn attention_softmax(scores: &Tensor, mask: &Tensor, scale: f64) -> Result<Tensor> {
    let dims = scores.dims();
    let (Some(&batch), Some(&keys)) = (dims.first(), dims.last()) else {
        candle_core::bail!("attention_softmax: scores need at least one dimension")
    };
    if dims.len() < 2 || mask.dims() != [batch, keys] {
        candle_core::bail!(
            "attention_softmax: mask of shape {:?} does not fit scores of shape {:?}",
            mask.shape(),
            scores.shape()
        )
    }
    if all_cpu_f32(&[scores, mask]) {
        scores.apply_op2(mask, AttentionSoftmaxOp { scale })
    } else {
        let mut shape = vec![1; dims.len()];
        shape[0] = batch;
        shape[dims.len() - 1] = keys;
        let z = (scores * scale)?.broadcast_add(&mask.reshape(shape)?)?;
        candle_nn::ops::softmax(&z, D::Minus1)
    }
}

/// The forward kernel, `(scores, mask) → weights`.
struct AttentionSoftmaxOp {
    scale: f64,
}

/// The backward kernel, `(weights, dweights) → dscores`:
/// `dscores = scale · y ⊙ (dy − Σ dy·y)` row by row.
struct AttentionSoftmaxBwdOp {
    scale: f64,
}

impl CustomOp2 for AttentionSoftmaxOp {
    fn name(&self) -> &'static str {
        "goodfit-attention-softmax"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let count = l1.shape().elem_count();
        let (batch, keys) = l2.shape().dims2()?;
        let scores = contiguous_f32(s1, l1)?;
        let mask = contiguous_f32(s2, l2)?;
        let mut y = vec![0f32; count];
        if count > 0 {
            let per_example = count / batch;
            let scale = self.scale as f32;
            let examples = y
                .chunks_exact_mut(per_example)
                .zip(scores.chunks_exact(per_example));
            vectorised(|| {
                for ((y, scores), mask) in examples.zip(mask.chunks_exact(keys)) {
                    for (y, s) in y.chunks_exact_mut(keys).zip(scores.chunks_exact(keys)) {
                        softmax_row(s, mask, scale, y);
                    }
                }
            });
        }
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        _scores: &Tensor,
        _mask: &Tensor,
        res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let scale = self.scale;
        let dscores = res.apply_op2_no_bwd(grad_res, &AttentionSoftmaxBwdOp { scale })?;
        Ok((Some(dscores), None))
    }
}

/// One row: `y = softmax(s·scale + mask)`, the maximum subtracted first for stability.
/// Each step is its own loop so that every one vectorises.
#[inline(always)]
fn softmax_row(s: &[f32], mask: &[f32], scale: f32, y: &mut [f32]) {
    for ((y, &s), &m) in y.iter_mut().zip(s).zip(mask) {
        *y = s * scale + m;
    }
    let max = fast_math::max(y);
    for y in y.iter_mut() {
        *y = exp(*y - max);
    }
    let inv = 1.0 / fast_math::sum(y);
    for y in y.iter_mut() {
        *y *= inv;
    }
}

/// One row of the backward: `dx = scale · y ⊙ (dy − Σ dy·y)`.
#[inline(always)]
fn softmax_row_backward(y: &[f32], dy: &[f32], scale: f32, dx: &mut [f32]) {
    for ((dx, &y), &g) in dx.iter_mut().zip(y).zip(dy) {
        *dx = y * g;
    }
    let dot = fast_math::sum(dx);
    for ((dx, &y), &g) in dx.iter_mut().zip(y).zip(dy) {
        *dx = scale * y * (g - dot);
    }
}

impl CustomOp2 for AttentionSoftmaxBwdOp {
    fn name(&self) -> &'static str {
        "goodfit-attention-softmax-bwd"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        if l1.dims() != l2.dims() {
            candle_core::bail!(
                "attention_softmax backward: gradient shape {:?} differs from {:?}",
                l2.shape(),
                l1.shape()
            )
        }
        let keys = l1.dims().last().copied().unwrap_or(1).max(1);
        let y = contiguous_f32(s1, l1)?;
        let dy = contiguous_f32(s2, l2)?;
        let mut dx = vec![0f32; y.len()];
        let scale = self.scale as f32;
        let rows = y.chunks_exact(keys).zip(dy.chunks_exact(keys));
        vectorised(|| {
            for ((y, dy), dx) in rows.zip(dx.chunks_exact_mut(keys)) {
                softmax_row_backward(y, dy, scale, dx);
            }
        });
        Ok((CpuStorage::F32(dx), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::cpu_storage::testing::{max_abs_diff, random};
    use super::*;
    use candle_core::{DType, Device, Var};

    /// A BERT-style mask for 2 examples of 7 keys, the second padded after 4 tokens.
    fn mask() -> Tensor {
        let m = [
            0f32, 0., 0., 0., 0., 0., 0., 0., 0., 0., 0., -1e9, -1e9, -1e9,
        ];
        Tensor::from_vec(m.to_vec(), (2, 7), &Device::Cpu).expect("shape")
    }

    /// The composed definition this kernel replaces in the encoder.
    fn composed(scores: &Tensor, mask: &Tensor, scale: f64) -> Result<Tensor> {
        let z = (scores * scale)?.broadcast_add(&mask.reshape((2, 1, 1, 7))?)?;
        candle_nn::ops::softmax(&z, D::Minus1)
    }

    #[test]
    fn matches_composed_ops_forward_and_backward() {
        let scores = Var::from_tensor(&random(&[2, 3, 5, 7], 6.0, 1)).expect("var");
        let weights = random(&[2, 3, 5, 7], 1.0, 2);
        let mask = mask();
        let mut out = Vec::new();
        for fused in [false, true] {
            let y = if fused {
                attention_softmax(scores.as_tensor(), &mask, 0.125)
            } else {
                composed(scores.as_tensor(), &mask, 0.125)
            }
            .expect("forward");
            let grads = (&y * &weights)
                .and_then(|t| t.sum_all())
                .and_then(|l| l.backward())
                .expect("backward");
            out.push((y, grads.get(scores.as_tensor()).expect("grad").clone()));
        }
        assert!(max_abs_diff(&out[0].0, &out[1].0) < 1e-6);
        assert!(max_abs_diff(&out[0].1, &out[1].1) < 1e-6);
        // Padded keys get exactly zero weight and rows sum to one.
        let y = &out[1].0;
        let padded = y.get(1).and_then(|t| t.narrow(2, 4, 3)).expect("view");
        assert_eq!(
            padded
                .abs()
                .and_then(|t| t.sum_all())
                .expect("sum")
                .to_scalar::<f32>()
                .expect("f32"),
            0.0
        );
        let sums = y.sum(D::Minus1).expect("sum");
        let ones = sums.ones_like().expect("ones");
        assert!(max_abs_diff(&sums, &ones) < 1e-6);
    }

    #[test]
    fn mask_shape_is_checked() {
        let scores = random(&[2, 3, 5, 7], 1.0, 3);
        let wrong = Tensor::zeros((2, 6), DType::F32, &Device::Cpu).expect("zeros");
        assert!(attention_softmax(&scores, &wrong, 1.0).is_err());
    }
}
