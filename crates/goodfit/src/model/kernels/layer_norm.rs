//! Layer normalisation that trains.
//!
//! candle's fused `candle_nn::ops::layer_norm` (and `candle_nn::LayerNorm` on contiguous
//! input) records no backward pass: its output is silently detached from the graph, so a
//! BERT built from it would only ever train its classification head. The composed
//! `candle_nn::ops::layer_norm_slow` does carry gradients but runs a dozen separate tensor
//! ops, each a full pass over memory, in both directions.
//!
//! This module keeps the speed of the fused kernel and adds a fused backward: on a CPU
//! device with `f32` tensors [`layer_norm`] runs one custom op whose backward is another
//! single-pass custom op producing the gradients of the input, the weight and the bias
//! together. Any other device or dtype falls back to composed candle ops, which carry
//! gradients everywhere (so the CUDA backend trains correctly, if less quickly).

use candle_core::{CpuStorage, CustomOp3, DType, Layout, Module, Result, Shape, Tensor, D};

use super::cpu_storage::{all_cpu_f32, contiguous_f32, split_packed_grad};

/// Layer normalisation over the last dimension of `x`, exactly as `torch.nn.LayerNorm`:
/// `y = (x − mean) / sqrt(var + eps) · weight + bias`, where `mean` and the biased `var`
/// are taken over the last dimension.
///
/// `weight` and `bias` must be vectors as long as `x`'s last dimension. The result carries
/// gradients for all three tensors. On the CPU with `f32` tensors both directions run as
/// fused single-pass kernels; otherwise composed candle ops are used (half-precision
/// inputs are normalised in `f32` internally, as candle does).
///
/// # Errors
/// When `x` has no dimension, when `weight` or `bias` is not a vector of the size of `x`'s
/// last dimension, or when the tensors' devices or dtypes disagree.
pub fn layer_norm(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    let size = x.dim(D::Minus1)?;
    for (name, t) in [("weight", weight), ("bias", bias)] {
        if t.dims() != [size] {
            candle_core::bail!(
                "layer_norm: {name} has shape {:?} but the input {:?} needs a vector of {size}",
                t.shape(),
                x.shape()
            )
        }
    }
    if all_cpu_f32(&[x, weight, bias]) {
        x.apply_op3(weight, bias, LayerNormOp { eps })
    } else {
        layer_norm_composed(x, weight, bias, eps)
    }
}

/// The fallback: plain candle ops, each of which records its own backward, so it trains on
/// every device and dtype candle supports.
fn layer_norm_composed(x: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    let dtype = x.dtype();
    // Half precision loses too much in the variance; candle's own slow path also upcasts.
    let internal = match dtype {
        DType::F16 | DType::BF16 => DType::F32,
        other => other,
    };
    let x = x.to_dtype(internal)?;
    let centred = x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?;
    let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
    let normed = centred.broadcast_div(&var.affine(1.0, eps)?.sqrt()?)?;
    normed
        .to_dtype(dtype)?
        .broadcast_mul(weight)?
        .broadcast_add(bias)
}

/// A layer-normalisation layer: a weight (gain), a bias and the `eps` added to the
/// variance. Its [`Module::forward`] is [`layer_norm`], so gradients reach all of the
/// input, the weight and the bias.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f64,
}

impl LayerNorm {
    /// A layer from its weight and bias (vectors of the normalised size) and `eps`
    /// (BERT uses `1e-12`). Shapes are checked when the layer is applied.
    pub fn new(weight: Tensor, bias: Tensor, eps: f64) -> Self {
        Self { weight, bias, eps }
    }

    /// The gain multiplied into the normalised input (`gamma` in older checkpoints).
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The offset added after the gain (`beta` in older checkpoints).
    pub fn bias(&self) -> &Tensor {
        &self.bias
    }

    /// The constant added to the variance before its square root, keeping constant rows
    /// finite.
    pub fn eps(&self) -> f64 {
        self.eps
    }
}

impl Module for LayerNorm {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        layer_norm(xs, &self.weight, &self.bias, self.eps)
    }
}

/// The fused forward, `(x, weight, bias) → y`, with a fused backward.
///
/// Both kernels run on the calling thread: they are memory-bound and small beside the
/// matmuls around them (well under a millisecond forward for a 16×128×384 batch), and
/// splitting rows over scoped threads measured no gain on a loaded two-core machine.
struct LayerNormOp {
    eps: f64,
}

/// The fused backward, `(x, weight, dy) → packed`, where `packed` has shape
/// `(rows + 2, size)`: the rows of `dx`, then `dweight`, then `dbias`. A custom op returns
/// one tensor, so the three gradients share one buffer and are split by cheap views.
struct LayerNormBwdOp {
    eps: f64,
}

impl CustomOp3 for LayerNormOp {
    fn name(&self) -> &'static str {
        "goodfit-layer-norm"
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
        let (rows, size) = rows_and_size(l1, l2, l3)?;
        let x = contiguous_f32(s1, l1)?;
        let weight = contiguous_f32(s2, l2)?;
        let bias = contiguous_f32(s3, l3)?;
        let mut y = vec![0f32; rows * size];
        if size > 0 {
            forward_rows(&x, &weight, &bias, &mut y, self.eps);
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
        let packed = x.apply_op3_no_bwd(weight, grad_res, &LayerNormBwdOp { eps: self.eps })?;
        let (dx, rows) = split_packed_grad(&packed, x)?;
        let dweight = packed.get(rows)?;
        let dbias = packed.get(rows + 1)?;
        Ok((Some(dx), Some(dweight), Some(dbias)))
    }
}

impl CustomOp3 for LayerNormBwdOp {
    fn name(&self) -> &'static str {
        "goodfit-layer-norm-bwd"
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
        let (rows, size) = rows_and_size(l1, l2, l2)?;
        if l3.dims() != l1.dims() {
            candle_core::bail!(
                "layer_norm backward: gradient shape {:?} differs from input shape {:?}",
                l3.shape(),
                l1.shape()
            )
        }
        let x = contiguous_f32(s1, l1)?;
        let weight = contiguous_f32(s2, l2)?;
        let dy = contiguous_f32(s3, l3)?;
        let mut packed = vec![0f32; (rows + 2) * size];
        if size > 0 {
            let (dx, params) = packed.split_at_mut(rows * size);
            let (dweight, dbias) = params.split_at_mut(size);
            backward_rows(&x, &weight, &dy, dx, dweight, dbias, self.eps);
        }
        Ok((CpuStorage::F32(packed), Shape::from((rows + 2, size))))
    }
}

/// The number of rows and the normalised size, checking that the two parameter layouts
/// are vectors of that size (the custom op may be reached without [`layer_norm`]'s checks).
fn rows_and_size(x: &Layout, a: &Layout, b: &Layout) -> Result<(usize, usize)> {
    let Some((&size, outer)) = x.dims().split_last() else {
        candle_core::bail!("layer_norm: the input must have at least one dimension")
    };
    if a.dims() != [size] || b.dims() != [size] {
        candle_core::bail!(
            "layer_norm: parameters of shapes {:?} and {:?} do not match input shape {:?}",
            a.shape(),
            b.shape(),
            x.shape()
        )
    }
    Ok((outer.iter().product(), size))
}

/// Independent accumulators per reduction, so that LLVM can keep a vector register of
/// partial sums (it may not reassociate a single float accumulator). Eight `f32`s fill an
/// AVX register; the split also makes the sum more accurate than one running total.
const LANES: usize = 8;

/// The mean and the reciprocal standard deviation of one row. Two passes (mean, then
/// squared deviations) rather than `E[x²] − E[x]²`, which cancels catastrophically for
/// rows far from zero; the row sits in L1 cache, so the second pass is nearly free.
fn row_stats(x: &[f32], eps: f64) -> (f32, f32) {
    let inv_n = 1.0 / x.len() as f32;
    let mut acc = [0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    let mean = (acc.iter().sum::<f32>() + tail) * inv_n;

    let mut acc = [0f32; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks
        .remainder()
        .iter()
        .map(|&v| (v - mean) * (v - mean))
        .sum();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += (v - mean) * (v - mean);
        }
    }
    let var = (acc.iter().sum::<f32>() + tail) * inv_n;
    // `eps` can be 1e-12 (BERT): add it in f64 so it is not lost against the variance.
    let rstd = (f64::from(var) + eps).sqrt().recip() as f32;
    (mean, rstd)
}

/// `y = (x − mean)·rstd·weight + bias` for consecutive rows of `x.len() / weight.len()`.
fn forward_rows(x: &[f32], weight: &[f32], bias: &[f32], y: &mut [f32], eps: f64) {
    let size = weight.len();
    for (y, x) in y.chunks_exact_mut(size).zip(x.chunks_exact(size)) {
        let (mean, rstd) = row_stats(x, eps);
        for (((y, &x), &w), &b) in y.iter_mut().zip(x).zip(weight).zip(bias) {
            *y = (x - mean) * rstd * w + b;
        }
    }
}

/// The gradients of consecutive rows. With `x̂ = (x − mean)·rstd` and `g = dy·weight`:
/// `dx = rstd·(g − mean(g) − x̂·mean(g·x̂))`, and the parameter gradients accumulate
/// `dweight += dy·x̂`, `dbias += dy` into the given buffers. mean and rstd are recomputed
/// from the row rather than saved by the forward: that costs two passes over a row already
/// in cache and keeps the ops free of shared state.
fn backward_rows(
    x: &[f32],
    weight: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    dweight: &mut [f32],
    dbias: &mut [f32],
    eps: f64,
) {
    let size = weight.len();
    let inv_n = 1.0 / size as f32;
    let rows = x.chunks_exact(size).zip(dy.chunks_exact(size));
    for ((x, dy), dx) in rows.zip(dx.chunks_exact_mut(size)) {
        let (mean, rstd) = row_stats(x, eps);
        for (((dw, db), &x), &g) in dweight.iter_mut().zip(dbias.iter_mut()).zip(x).zip(dy) {
            *dw += g * ((x - mean) * rstd);
            *db += g;
        }
        let (sum_g, sum_gx) = gradient_sums(x, weight, dy, mean, rstd);
        let (mean_g, mean_gx) = (sum_g * inv_n, sum_gx * inv_n);
        for (((dx, &x), &w), &g) in dx.iter_mut().zip(x).zip(weight).zip(dy) {
            let x_hat = (x - mean) * rstd;
            *dx = rstd * (g * w - mean_g - x_hat * mean_gx);
        }
    }
}

/// `Σ dy·weight` and `Σ dy·weight·x̂` over one row, in [`LANES`] accumulators.
fn gradient_sums(x: &[f32], weight: &[f32], dy: &[f32], mean: f32, rstd: f32) -> (f32, f32) {
    let (mut acc_g, mut acc_gx) = ([0f32; LANES], [0f32; LANES]);
    let (xs, ws, gs) = (
        x.chunks_exact(LANES),
        weight.chunks_exact(LANES),
        dy.chunks_exact(LANES),
    );
    let (mut tail_g, mut tail_gx) = (0f32, 0f32);
    for ((&x, &w), &g) in xs
        .remainder()
        .iter()
        .zip(ws.remainder())
        .zip(gs.remainder())
    {
        tail_g += g * w;
        tail_gx += g * w * ((x - mean) * rstd);
    }
    for ((x, w), g) in xs.zip(ws).zip(gs) {
        let accs = acc_g.iter_mut().zip(acc_gx.iter_mut());
        for (((a_g, a_gx), &x), (&w, &g)) in accs.zip(x).zip(w.iter().zip(g)) {
            let gw = g * w;
            *a_g += gw;
            *a_gx += gw * ((x - mean) * rstd);
        }
    }
    (
        acc_g.iter().sum::<f32>() + tail_g,
        acc_gx.iter().sum::<f32>() + tail_gx,
    )
}

#[cfg(test)]
mod tests {
    use super::super::cpu_storage::testing::{max_abs_diff, random};
    use super::*;
    use candle_core::{Device, Var};

    /// The textbook definition in basic candle ops, independent of the code under test.
    fn reference(x: &Tensor, w: &Tensor, b: &Tensor, eps: f64) -> Result<Tensor> {
        let mean = x.mean_keepdim(D::Minus1)?;
        let centred = x.broadcast_sub(&mean)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let std = (var + eps)?.sqrt()?;
        centred
            .broadcast_div(&std)?
            .broadcast_mul(w)?
            .broadcast_add(b)
    }

    type Grads = (Tensor, Tensor, Tensor, Tensor);

    /// A loss reducing the layer's output to a scalar.
    type Loss<'a> = &'a dyn Fn(&Tensor) -> Result<Tensor>;

    /// Output and gradients of x, weight and bias for `loss(y)` through `f`.
    fn output_and_grads(
        f: impl Fn(&Tensor, &Tensor, &Tensor) -> Result<Tensor>,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        loss: impl Fn(&Tensor) -> Result<Tensor>,
    ) -> Grads {
        let (xv, wv, bv) = (
            Var::from_tensor(x).unwrap(),
            Var::from_tensor(w).unwrap(),
            Var::from_tensor(b).unwrap(),
        );
        let y = f(xv.as_tensor(), wv.as_tensor(), bv.as_tensor()).unwrap();
        let grads = loss(&y).unwrap().backward().unwrap();
        let g = |v: &Var| grads.get(v.as_tensor()).expect("a gradient").clone();
        (y, g(&xv), g(&wv), g(&bv))
    }

    #[test]
    fn forward_matches_reference() {
        for (i, shape) in [[3, 5, 16], [3, 5, 13], [2, 1, 1]].iter().enumerate() {
            let i = i as u64;
            let size = shape[2];
            let x = random(shape, 2.0, 1 + 10 * i);
            let (w, b) = (
                random(&[size], 2.0, 2 + 10 * i),
                random(&[size], 2.0, 3 + 10 * i),
            );
            let y = layer_norm(&x, &w, &b, 1e-5).unwrap();
            assert_eq!(y.dims(), shape);
            assert!(max_abs_diff(&y, &reference(&x, &w, &b, 1e-5).unwrap()) < 1e-5);
        }
    }

    #[test]
    fn forward_honours_non_contiguous_layouts() {
        let (w, b) = (random(&[16], 2.0, 2), random(&[16], 2.0, 3));
        // A transpose: the normalised dimension has stride 5.
        let x = random(&[3, 16, 5], 2.0, 1).transpose(1, 2).unwrap();
        assert!(!x.is_contiguous());
        let y = layer_norm(&x, &w, &b, 1e-5).unwrap();
        let expected = reference(&x.contiguous().unwrap(), &w, &b, 1e-5).unwrap();
        assert!(max_abs_diff(&y, &expected) < 1e-5);
        // A narrow: unit inner stride, but an offset and gaps between rows.
        let x = random(&[4, 6, 20], 2.0, 4)
            .narrow(2, 3, 16)
            .unwrap()
            .narrow(1, 1, 4)
            .unwrap();
        assert!(!x.is_contiguous());
        let y = layer_norm(&x, &w, &b, 1e-5).unwrap();
        let expected = reference(&x.contiguous().unwrap(), &w, &b, 1e-5).unwrap();
        assert!(max_abs_diff(&y, &expected) < 1e-5);
    }

    #[test]
    fn gradients_match_reference() {
        let shapes: [&[usize]; 3] = [&[3, 5, 16], &[4, 13], &[64, 1024]];
        for (i, shape) in shapes.into_iter().enumerate() {
            let i = i as u64;
            let size = shape[shape.len() - 1];
            let x = random(shape, 2.0, 11 + 10 * i);
            let (w, b) = (
                random(&[size], 2.0, 12 + 10 * i),
                random(&[size], 2.0, 13 + 10 * i),
            );
            let r = random(shape, 2.0, 14 + 10 * i);
            // A weighted sum, and a plain sum whose gradient arrives as a stride-0 broadcast.
            let weighted = |y: &Tensor| (y * &r)?.sum_all();
            let plain = |y: &Tensor| y.sum_all();
            let losses: [Loss; 2] = [&weighted, &plain];
            for loss in losses {
                let fused = |x: &Tensor, w: &Tensor, b: &Tensor| layer_norm(x, w, b, 1e-5);
                let slow = |x: &Tensor, w: &Tensor, b: &Tensor| reference(x, w, b, 1e-5);
                let (_, dx, dw, db) = output_and_grads(fused, &x, &w, &b, loss);
                let (_, ex, ew, eb) = output_and_grads(slow, &x, &w, &b, loss);
                // Parameter gradients sum over all rows, so allow for the length of the sum.
                let rows = (x.elem_count() / size) as f32;
                assert!(max_abs_diff(&dx, &ex) < 1e-4, "dx of {shape:?}");
                assert!(
                    max_abs_diff(&dw, &ew) < 1e-4 * rows.sqrt().max(1.0),
                    "dw of {shape:?}"
                );
                assert!(
                    max_abs_diff(&db, &eb) < 1e-4 * rows.sqrt().max(1.0),
                    "db of {shape:?}"
                );
                assert_eq!(
                    (dx.dims(), dw.dims(), db.dims()),
                    (x.dims(), w.dims(), b.dims())
                );
            }
        }
    }

    #[test]
    fn gradients_reach_non_contiguous_input() {
        let (w, b) = (random(&[16], 2.0, 2), random(&[16], 2.0, 3));
        let base = Var::from_tensor(&random(&[3, 16, 5], 2.0, 1)).unwrap();
        let r = random(&[3, 5, 16], 2.0, 4);
        let grad = |f: &dyn Fn(&Tensor) -> Result<Tensor>| {
            let y = f(&base.as_tensor().transpose(1, 2).unwrap()).unwrap();
            let grads = (y * &r).unwrap().sum_all().unwrap().backward().unwrap();
            grads.get(base.as_tensor()).expect("a gradient").clone()
        };
        let fused = grad(&|x| layer_norm(x, &w, &b, 1e-5));
        let expected = grad(&|x| reference(x, &w, &b, 1e-5));
        assert!(max_abs_diff(&fused, &expected) < 1e-4);
    }

    /// Central differences of `Σ y·r` against the analytic dx, for the f32 fused kernel
    /// (loose: f32 round-off) and the f64 fallback (tight).
    #[test]
    fn dx_matches_finite_differences() {
        for (dtype, step, tolerance) in [(DType::F32, 1e-2, 1e-2), (DType::F64, 1e-6, 1e-6)] {
            let x = random(&[2, 3, 8], 2.0, 21).to_dtype(dtype).unwrap();
            let w = random(&[8], 2.0, 22).to_dtype(dtype).unwrap();
            let b = random(&[8], 2.0, 23).to_dtype(dtype).unwrap();
            let r = random(&[2, 3, 8], 2.0, 24).to_dtype(dtype).unwrap();
            let loss = |y: &Tensor| (y * &r)?.sum_all();
            let f = |x: &Tensor, w: &Tensor, b: &Tensor| layer_norm(x, w, b, 1e-5);
            let (_, dx, _, _) = output_and_grads(f, &x, &w, &b, loss);
            let dx: Vec<f64> = dx
                .flatten_all()
                .unwrap()
                .to_dtype(DType::F64)
                .unwrap()
                .to_vec1()
                .unwrap();
            let flat: Vec<f64> = x
                .flatten_all()
                .unwrap()
                .to_dtype(DType::F64)
                .unwrap()
                .to_vec1()
                .unwrap();
            let eval = |values: &[f64]| -> f64 {
                let x = Tensor::new(values, &Device::Cpu)
                    .unwrap()
                    .to_dtype(dtype)
                    .unwrap();
                let y = layer_norm(&x.reshape((2, 3, 8)).unwrap(), &w, &b, 1e-5).unwrap();
                let l = loss(&y).unwrap().to_dtype(DType::F64).unwrap();
                l.to_scalar::<f64>().unwrap()
            };
            for at in [0, 7, 13, 30, 47] {
                let (mut plus, mut minus) = (flat.clone(), flat.clone());
                plus[at] += step;
                minus[at] -= step;
                let numeric = (eval(&plus) - eval(&minus)) / (2.0 * step);
                assert!(
                    (numeric - dx[at]).abs() < tolerance,
                    "{dtype:?} at {at}: numeric {numeric}, analytic {}",
                    dx[at]
                );
            }
        }
    }

    #[test]
    fn fallback_path_carries_gradients() {
        let (x, w, b, r) = (
            random(&[3, 5, 16], 2.0, 31),
            random(&[16], 2.0, 32),
            random(&[16], 2.0, 33),
            random(&[3, 5, 16], 2.0, 34),
        );
        let f = |x: &Tensor, w: &Tensor, b: &Tensor| layer_norm(x, w, b, 1e-5);
        let f64s = |t: &Tensor| t.to_dtype(DType::F64).unwrap();
        let r64 = f64s(&r);
        let (y, dx, dw, db) = output_and_grads(f, &f64s(&x), &f64s(&w), &f64s(&b), |y| {
            (y * &r64)?.sum_all()
        });
        assert_eq!(y.dtype(), DType::F64);
        let (ey, ex, ew, eb) = output_and_grads(f, &x, &w, &b, |y| (y * &r)?.sum_all());
        for (got, expected) in [(&y, &ey), (&dx, &ex), (&dw, &ew), (&db, &eb)] {
            assert_eq!(got.dtype(), DType::F64);
            assert!(max_abs_diff(got, expected) < 1e-4);
        }
    }

    #[test]
    fn module_matches_function() {
        let (x, w, b) = (
            random(&[2, 4, 16], 2.0, 41),
            random(&[16], 2.0, 42),
            random(&[16], 2.0, 43),
        );
        let layer = LayerNorm::new(w.clone(), b.clone(), 1e-12);
        assert_eq!(layer.eps(), 1e-12);
        assert_eq!(
            (layer.weight().dims(), layer.bias().dims()),
            (&[16][..], &[16][..])
        );
        let expected = layer_norm(&x, &w, &b, 1e-12).unwrap();
        assert_eq!(max_abs_diff(&layer.forward(&x).unwrap(), &expected), 0.0);
    }

    #[test]
    fn wrong_parameter_shapes_are_errors() {
        let x = random(&[2, 4, 16], 2.0, 51);
        let (w, b) = (random(&[16], 2.0, 52), random(&[16], 2.0, 53));
        assert!(layer_norm(&x, &random(&[15], 2.0, 54), &b, 1e-5).is_err());
        assert!(layer_norm(&x, &w, &random(&[1, 16], 2.0, 55), 1e-5).is_err());
        assert!(layer_norm(&Tensor::new(1f32, &Device::Cpu).unwrap(), &w, &b, 1e-5).is_err());
        assert!(layer_norm(&x.to_dtype(DType::F64).unwrap(), &w, &b, 1e-5).is_err());
    }

    #[test]
    fn empty_input_is_fine() {
        let x = Tensor::zeros((0, 16), DType::F32, &Device::Cpu).unwrap();
        let (w, b) = (random(&[16], 2.0, 62), random(&[16], 2.0, 63));
        let (y, dx, dw, db) = output_and_grads(
            |x, w, b| layer_norm(x, w, b, 1e-5),
            &x,
            &w,
            &b,
            |y| y.sum_all(),
        );
        assert_eq!((y.dims(), dx.dims()), (&[0, 16][..], &[0, 16][..]));
        assert_eq!(max_abs_diff(&dw, &w.zeros_like().unwrap()), 0.0);
        assert_eq!(max_abs_diff(&db, &b.zeros_like().unwrap()), 0.0);
    }
}
