//! Bias add and GELU in one pass each way.
//!
//! BERT's feed-forward block computes `gelu(x·Wᵀ + b)`. Composed from candle ops that is a
//! broadcast add, then candle's GELU whose backward evaluates a scalar `erf` per element
//! and chains four more element-wise ops, and the bias gradient is a separate sum; on a
//! 16×128×1536 activation each of those is a full pass over 12 MB. [`bias_gelu`] does the
//! forward in one pass and the backward (input and bias gradients together) in another,
//! with the vectorised `erf` of [`super::fast_math`].

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};

use super::cpu_storage::{all_cpu_f32, contiguous_f32, split_packed_grad};
use super::fast_math::{erf_and_gauss, vectorised};

/// `gelu(x + bias)` with the exact (erf) GELU of BERT and `torch.nn.functional.gelu`:
/// `z·Φ(z)` where `Φ` is the standard normal CDF. `bias` is a vector as long as `x`'s last
/// dimension. Gradients reach both inputs. On the CPU with `f32` tensors both directions are
/// fused kernels (the `erf` approximation is within 5e-7 of the exact one); elsewhere the
/// composed candle ops run.
///
/// # Errors
/// When `bias` does not match `x`'s last dimension, or dtypes and devices disagree.
pub fn bias_gelu(x: &Tensor, bias: &Tensor) -> Result<Tensor> {
    if all_cpu_f32(&[x, bias]) {
        x.apply_op2(bias, BiasGeluOp)
    } else {
        x.broadcast_add(bias)?.gelu_erf()
    }
}

/// The forward kernel, `(x, bias) → gelu(x + bias)`.
struct BiasGeluOp;

/// The backward kernel, `(x, bias, dy) → packed` of shape `(rows + 1, size)`: the rows of
/// `dx`, then `dbias` (one buffer, split by views, as in the LayerNorm backward).
struct BiasGeluBwdOp;

const FRAC_1_SQRT_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// 1/√(2π), the standard normal density at 0.
const INV_SQRT_2PI: f32 = 0.398_942_3;

/// `gelu(z) = z·Φ(z)`, `Φ(z) = (1 + erf(z/√2))/2`.
#[inline(always)]
fn gelu(z: f32) -> f32 {
    let (erf, _) = erf_and_gauss(z * FRAC_1_SQRT_2);
    0.5 * z * (1.0 + erf)
}

/// `gelu'(z) = Φ(z) + z·φ(z)`, `φ(z) = e^{−z²/2}/√(2π)`; `e^{−(z/√2)²}` is `e^{−z²/2}`.
#[inline(always)]
fn gelu_derivative(z: f32) -> f32 {
    let (erf, gauss) = erf_and_gauss(z * FRAC_1_SQRT_2);
    0.5 * (1.0 + erf) + z * gauss * INV_SQRT_2PI
}

fn rows_and_size(x: &Layout, bias: &Layout) -> Result<(usize, usize)> {
    let Some((&size, outer)) = x.dims().split_last() else {
        candle_core::bail!("bias_gelu: the input must have at least one dimension")
    };
    if bias.dims() != [size] {
        candle_core::bail!(
            "bias_gelu: bias of shape {:?} does not match input shape {:?}",
            bias.shape(),
            x.shape()
        )
    }
    Ok((outer.iter().product(), size))
}

impl CustomOp2 for BiasGeluOp {
    fn name(&self) -> &'static str {
        "goodfit-bias-gelu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (rows, size) = rows_and_size(l1, l2)?;
        let x = contiguous_f32(s1, l1)?;
        let bias = contiguous_f32(s2, l2)?;
        let mut y = vec![0f32; rows * size];
        if size > 0 {
            vectorised(|| {
                for (y, x) in y.chunks_exact_mut(size).zip(x.chunks_exact(size)) {
                    for ((y, &x), &b) in y.iter_mut().zip(x).zip(bias.iter()) {
                        *y = gelu(x + b);
                    }
                }
            });
        }
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        bias: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let packed = x.apply_op3_no_bwd(bias, grad_res, &BiasGeluBwdOp)?;
        let (dx, rows) = split_packed_grad(&packed, x)?;
        let dbias = packed.get(rows)?;
        Ok((Some(dx), Some(dbias)))
    }
}

impl CustomOp3 for BiasGeluBwdOp {
    fn name(&self) -> &'static str {
        "goodfit-bias-gelu-bwd"
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
        let (rows, size) = rows_and_size(l1, l2)?;
        if l3.dims() != l1.dims() {
            candle_core::bail!(
                "bias_gelu backward: gradient shape {:?} differs from input shape {:?}",
                l3.shape(),
                l1.shape()
            )
        }
        let x = contiguous_f32(s1, l1)?;
        let bias = contiguous_f32(s2, l2)?;
        let dy = contiguous_f32(s3, l3)?;
        let mut packed = vec![0f32; (rows + 1) * size];
        if size > 0 {
            let (dx, dbias) = packed.split_at_mut(rows * size);
            let lines = x.chunks_exact(size).zip(dy.chunks_exact(size));
            vectorised(|| {
                for ((x, dy), dx) in lines.zip(dx.chunks_exact_mut(size)) {
                    let elements = dx.iter_mut().zip(dbias.iter_mut()).zip(x).zip(dy);
                    for ((((dx, db), &x), &g), &b) in elements.zip(bias.iter()) {
                        let d = g * gelu_derivative(x + b);
                        *dx = d;
                        *db += d;
                    }
                }
            });
        }
        Ok((CpuStorage::F32(packed), Shape::from((rows + 1, size))))
    }
}

#[cfg(test)]
mod tests {
    use super::super::cpu_storage::testing::{max_abs_diff, random};
    use super::*;
    use candle_core::Var;

    /// The output, the gradient of x and of the bias for `loss = Σ y·w` with fixed weights w.
    fn run(f: impl Fn(&Tensor, &Tensor) -> Result<Tensor>) -> (Tensor, Tensor, Tensor) {
        let x = Var::from_tensor(&random(&[3, 5, 24], 4.0, 1)).expect("var");
        let b = Var::from_tensor(&random(&[24], 1.0, 2)).expect("var");
        let w = random(&[3, 5, 24], 1.0, 3);
        let y = f(x.as_tensor(), b.as_tensor()).expect("forward");
        let grads = (&y * &w)
            .and_then(|t| t.sum_all())
            .and_then(|l| l.backward())
            .expect("backward");
        let dx = grads.get(x.as_tensor()).expect("dx").clone();
        let db = grads.get(b.as_tensor()).expect("dbias").clone();
        (y, dx, db)
    }

    #[test]
    fn matches_candle_composed_ops_both_ways() {
        let composed = |x: &Tensor, b: &Tensor| x.broadcast_add(b)?.gelu_erf();
        let (y0, dx0, db0) = run(composed);
        let (y1, dx1, db1) = run(bias_gelu);
        assert!(max_abs_diff(&y0, &y1) < 2e-6, "{}", max_abs_diff(&y0, &y1));
        assert!(
            max_abs_diff(&dx0, &dx1) < 2e-6,
            "{}",
            max_abs_diff(&dx0, &dx1)
        );
        // dbias sums 15 rows.
        assert!(
            max_abs_diff(&db0, &db1) < 2e-5,
            "{}",
            max_abs_diff(&db0, &db1)
        );
    }

    #[test]
    fn honours_non_contiguous_input() {
        let x = random(&[24, 6], 3.0, 4).t().expect("transpose");
        let b = random(&[24], 1.0, 5);
        let want = x.broadcast_add(&b).and_then(|t| t.gelu_erf()).expect("ok");
        let got = bias_gelu(&x, &b).expect("ok");
        assert!(max_abs_diff(&want, &got) < 2e-6);
    }

    #[test]
    fn wrong_bias_shape_is_an_error() {
        let x = random(&[2, 4], 1.0, 6);
        assert!(bias_gelu(&x, &random(&[3], 1.0, 7)).is_err());
    }
}
