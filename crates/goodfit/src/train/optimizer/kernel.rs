//! The AdamW update itself: in place over an f32 CPU parameter in one pass (the moments
//! as plain vectors), or in tensor ops on any other device and dtype.

use std::cell::RefCell;

use candle_core::{bail, CpuStorage, InplaceOp2, Layout, Result, Tensor, Var};

/// The per-step scalars of one parameter's update, in f64 as torch computes them.
#[derive(Clone, Copy)]
pub(super) struct Scalars {
    /// 1 for a plain step, else the fused clipping coefficient.
    pub(super) grad_scale: f64,
    pub(super) decay: f64,
    pub(super) apply_decay: bool,
    pub(super) beta1: f64,
    pub(super) beta2: f64,
    pub(super) eps: f64,
    pub(super) step_size: f64,
    pub(super) bias_correction2_sqrt: f64,
}

/// The in-place kernel for f32 CPU parameters: reads the gradient and the moments and
/// writes parameter and moments in one pass. It does, per element and in f32 with the
/// scalars rounded to f32 (as torch's CPU kernels round Python-float scalars for a
/// float tensor), torch's sequence `g *= clip coefficient` (when clipping is fused),
/// `p *= 1 − lr·wd`, `m = m + (1−β1)(g − m)` (torch's `lerp_` for a weight below ½),
/// `v = v·β2 + (1−β2)·g·g`, `p = p + (−step_size·m) / (√v / √bc2 + eps)`.
pub(super) struct HostKernel<'a> {
    // `InplaceOp2::cpu_fwd` takes `&self`, so the moment buffers it writes sit in
    // RefCells; candle runs the op once, on this thread, while holding the parameter's
    // write lock.
    pub(super) m: RefCell<&'a mut Vec<f32>>,
    pub(super) v: RefCell<&'a mut Vec<f32>>,
    pub(super) s: Scalars,
}

impl InplaceOp2 for HostKernel<'_> {
    fn name(&self) -> &'static str {
        "goodfit-adamw"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<()> {
        let (CpuStorage::F32(param), CpuStorage::F32(grad)) = (s1, s2) else {
            bail!("goodfit-adamw: parameter and gradient must both be f32")
        };
        let (Some((p0, p1)), Some((g0, g1))) = (l1.contiguous_offsets(), l2.contiguous_offsets())
        else {
            bail!("goodfit-adamw: parameter and gradient must be contiguous")
        };
        let (Some(param), Some(grad)) = (param.get_mut(p0..p1), grad.get(g0..g1)) else {
            bail!("goodfit-adamw: layout outside its storage")
        };
        let (Ok(mut m), Ok(mut v)) = (self.m.try_borrow_mut(), self.v.try_borrow_mut()) else {
            bail!("goodfit-adamw: moment buffers already in use")
        };
        if grad.len() != param.len() || m.len() != param.len() || v.len() != param.len() {
            bail!("goodfit-adamw: parameter, gradient and moments differ in length")
        }
        let s = &self.s;
        let decay = s.decay as f32;
        let w1 = (1.0 - s.beta1) as f32;
        let beta2 = s.beta2 as f32;
        let w2 = (1.0 - s.beta2) as f32;
        let bc2_sqrt = s.bias_correction2_sqrt as f32;
        let eps = s.eps as f32;
        let neg_step_size = (-s.step_size) as f32;
        let grad_scale = s.grad_scale as f32;
        let scale_grad = s.grad_scale != 1.0;
        // Multiplying by exactly 1.0 changes nothing, but skipping it when torch skips
        // it keeps the loop honest for readers; both branches vectorise.
        let apply_decay = s.apply_decay;
        for (((p, &g), m), v) in param
            .iter_mut()
            .zip(grad)
            .zip(m.iter_mut())
            .zip(v.iter_mut())
        {
            // As `clip_grad_norm` would have stored it: candle's affine, g·c + 0.
            let g = if scale_grad { g * grad_scale + 0.0 } else { g };
            let mut x = *p;
            if apply_decay {
                x *= decay;
            }
            let mm = *m + w1 * (g - *m);
            let vv = *v * beta2 + w2 * g * g;
            let denom = vv.sqrt() / bc2_sqrt + eps;
            *p = x + neg_step_size * mm / denom;
            *m = mm;
            *v = vv;
        }
        Ok(())
    }
}

/// The same update with tensor ops (any device, any float dtype), writing the parameter
/// with `Var::set` and returning the new moments. The operation order follows torch's
/// so that results agree to rounding.
pub(super) fn tensor_update(
    var: &Var,
    grad: &Tensor,
    m: Tensor,
    v: Tensor,
    s: &Scalars,
) -> Result<(Tensor, Tensor)> {
    // Detached: no backprop graph is recorded through the update.
    let p = var.as_detached_tensor();
    let g = if s.grad_scale != 1.0 {
        grad.affine(s.grad_scale, 0.0)?.detach()
    } else {
        grad.detach()
    };
    let p = if s.apply_decay {
        p.affine(s.decay, 0.0)?
    } else {
        p
    };
    let m = (&m + (&g - &m)?.affine(1.0 - s.beta1, 0.0)?)?;
    let v = (v.affine(s.beta2, 0.0)? + (g.affine(1.0 - s.beta2, 0.0)? * &g)?)?;
    // A true division by √bc2 (as torch does), not a multiplication by its reciprocal.
    let bc2_sqrt = Tensor::new(s.bias_correction2_sqrt, p.device())?.to_dtype(p.dtype())?;
    let denom = v.sqrt()?.broadcast_div(&bc2_sqrt)?.affine(1.0, s.eps)?;
    let update = (m.affine(-s.step_size, 0.0)? / denom)?;
    var.set(&(p + update)?)?;
    Ok((m, v))
}
