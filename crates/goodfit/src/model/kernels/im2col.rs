//! im2col and its adjoint col2im: a dense convolution as a matrix product.
//!
//! candle's dense convolution runs its backward through `conv_transpose2d`, a direct loop
//! of dot products, and the filter's gradient as a convolution whose "filter" is the whole
//! output gradient: measured on ResNet-18 (batch 32, 224 pixels, every layer training) the
//! training step took 4.1× PyTorch's time. Written as `W · im2col(x)`, the forward and both
//! gradients are matrix products (candle's, through `gemm`) and the only other work is
//! these two copies: im2col's backward is col2im, which sums each column entry back onto the
//! input pixel it came from. This is how PyTorch's own CPU fallback (`slow_conv2d`)
//! computes a convolution.

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::cpu_storage::contiguous_f32;

/// The geometry of a square convolution window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The window's side.
    pub k: usize,
    /// The step between windows.
    pub stride: usize,
    /// Zeros added on every side.
    pub padding: usize,
}

impl Window {
    fn out(&self, size: usize) -> usize {
        (size + 2 * self.padding - self.k) / self.stride + 1
    }

    fn valid(&self, output: usize, input: usize, tap: usize) -> (usize, usize) {
        valid_outputs((self.stride, self.padding), output, input, tap)
    }

    /// Visits every stretch of one channel plane of `in_h × in_w` that one tap copies: the
    /// column row (the tap `ky · k + kx`), the output row `oy`, the output columns
    /// `x_lo..x_hi`, and the input row and column the first of them reads.
    fn rows(&self, in_h: usize, in_w: usize, mut visit: impl FnMut(Stretch)) {
        let (out_h, out_w) = (self.out(in_h), self.out(in_w));
        for ky in 0..self.k {
            let (y_lo, y_hi) = self.valid(out_h, in_h, ky);
            for kx in 0..self.k {
                let (x_lo, x_hi) = self.valid(out_w, in_w, kx);
                if x_lo >= x_hi {
                    continue;
                }
                for oy in y_lo..y_hi {
                    visit(Stretch {
                        tap: ky * self.k + kx,
                        out: oy * out_w + x_lo,
                        len: x_hi - x_lo,
                        input: (oy * self.stride + ky - self.padding) * in_w
                            + x_lo * self.stride
                            + kx
                            - self.padding,
                    });
                }
            }
        }
    }
}

/// What one tap copies along one output row.
#[derive(Debug, Clone, Copy)]
struct Stretch {
    /// The column row.
    tap: usize,
    /// The first output position (in the plane).
    out: usize,
    /// How many output positions.
    len: usize,
    /// The input position (in the plane) of the first; the next are `stride` apart.
    input: usize,
}

/// The output positions `lo..hi` (of `output`) whose input position
/// `o·stride − padding + tap` lies inside `0..input`: where a window's tap reads the input,
/// not the zero padding. Shared by the convolution kernels.
pub(crate) fn valid_outputs(
    (stride, padding): (usize, usize),
    output: usize,
    input: usize,
    tap: usize,
) -> (usize, usize) {
    let (s, p, tap) = (stride as i64, padding as i64, tap as i64);
    // o·s + tap − p ≥ 0  ⇔  o ≥ ⌈(p − tap)/s⌉;  o·s + tap − p ≤ input − 1.
    let lo = if p > tap { (p - tap + s - 1) / s } else { 0 };
    let hi = (input as i64 - 1 + p - tap).div_euclid(s) + 1;
    let hi = hi.clamp(0, output as i64);
    (lo.min(hi) as usize, hi as usize)
}

/// The columns of `x` `[batch, channels, h, w]` for a convolution with `window`:
/// `[channels · k · k, batch · out_h · out_w]`, row `c·k² + ky·k + kx` holding, for each
/// example and output position, the input pixel under tap (ky, kx) of channel c (zero in
/// the padding). The batch sits in the columns so that the convolution is one matrix
/// product `[out, c·k²] · columns` for the whole batch, and so is its filter gradient
/// (a batched product would leave a `[batch, out, c·k²]` gradient to sum).
/// Gradients reach `x` (col2im). CPU `f32` only: callers elsewhere use candle's convolution.
pub fn im2col(x: &Tensor, window: Window) -> Result<Tensor> {
    x.apply_op1(Im2Col(window))
}

struct Im2Col(Window);

fn dims4(layout: &Layout, what: &str) -> Result<(usize, usize, usize, usize)> {
    match *layout.dims() {
        [b, c, h, w] => Ok((b, c, h, w)),
        _ => candle_core::bail!(
            "{what}: expected [batch, channels, h, w], got {:?}",
            layout.dims()
        ),
    }
}

impl CustomOp1 for Im2Col {
    fn name(&self) -> &'static str {
        "goodfit-im2col"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let w = self.0;
        let (batch, channels, in_h, in_w) = dims4(layout, "im2col")?;
        if in_h + 2 * w.padding < w.k || in_w + 2 * w.padding < w.k || w.stride == 0 {
            candle_core::bail!(
                "im2col: input {:?} is smaller than the {}×{} window",
                layout.dims(),
                w.k,
                w.k
            )
        }
        let x = contiguous_f32(storage, layout)?;
        let (plane_in, plane_out, taps) = (in_h * in_w, w.out(in_h) * w.out(in_w), w.k * w.k);
        let width = batch * plane_out;
        let mut cols = vec![0f32; channels * taps * width];
        // One channel's k² rows at a time, over every example.
        cols.par_chunks_mut(taps * width)
            .enumerate()
            .for_each(|(c, block)| {
                for b in 0..batch {
                    let plane = b * channels + c;
                    let input = &x[plane * plane_in..(plane + 1) * plane_in];
                    w.rows(in_h, in_w, |r| {
                        let out = &mut block[r.tap * width + b * plane_out + r.out..][..r.len];
                        if w.stride == 1 {
                            out.copy_from_slice(&input[r.input..r.input + r.len]);
                        } else {
                            for (j, o) in out.iter_mut().enumerate() {
                                *o = input[r.input + j * w.stride];
                            }
                        }
                    });
                }
            });
        Ok((CpuStorage::F32(cols), Shape::from((channels * taps, width))))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        let (_, _, h, w) = x.dims4()?;
        Ok(Some(grad.apply_op1_no_bwd(&Col2Im {
            window: self.0,
            in_h: h,
            in_w: w,
        })?))
    }
}

/// The adjoint of [`Im2Col`]: each column entry added onto the pixel it was copied from.
struct Col2Im {
    window: Window,
    in_h: usize,
    in_w: usize,
}

impl CustomOp1 for Col2Im {
    fn name(&self) -> &'static str {
        "goodfit-col2im"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let w = self.window;
        let (in_h, in_w) = (self.in_h, self.in_w);
        let (plane_in, plane_out, taps) = (in_h * in_w, w.out(in_h) * w.out(in_w), w.k * w.k);
        let &[rows, width] = layout.dims() else {
            candle_core::bail!("col2im: expected [rows, columns], got {:?}", layout.dims())
        };
        if rows % taps != 0 || width % plane_out != 0 {
            candle_core::bail!(
                "col2im: columns {:?} do not fit a {in_h}×{in_w} input",
                layout.dims()
            )
        }
        let (channels, batch) = (rows / taps, width / plane_out);
        let cols = contiguous_f32(storage, layout)?;
        let mut dx = vec![0f32; batch * channels * plane_in];
        dx.par_chunks_mut(plane_in)
            .enumerate()
            .for_each(|(plane, grad)| {
                let (b, c) = (plane / channels, plane % channels);
                let block = &cols[c * taps * width..(c + 1) * taps * width];
                w.rows(in_h, in_w, |r| {
                    let from = &block[r.tap * width + b * plane_out + r.out..][..r.len];
                    if w.stride == 1 {
                        let to = &mut grad[r.input..r.input + r.len];
                        for (g, &v) in to.iter_mut().zip(from) {
                            *g += v;
                        }
                    } else {
                        for (j, &v) in from.iter().enumerate() {
                            grad[r.input + j * w.stride] += v;
                        }
                    }
                });
            });
        Ok((
            CpuStorage::F32(dx),
            Shape::from((batch, channels, in_h, in_w)),
        ))
    }
}

/// The convolution of `x` `[batch, in, h, w]` with `weight` `[out, in, k, k]` (no groups,
/// no bias): `weight · im2col(x)`, `[batch, out, out_h, out_w]`. CPU `f32`.
pub fn conv2d(x: &Tensor, weight: &Tensor, window: Window) -> Result<Tensor> {
    let (batch, _, h, w) = x.dims4()?;
    let (out, inputs, k, _) = weight.dims4()?;
    let columns = im2col(x, window)?;
    weight
        .reshape((out, inputs * k * k))?
        .matmul(&columns)?
        .reshape((out, batch, window.out(h), window.out(w)))?
        .transpose(0, 1)
}

#[cfg(test)]
mod tests {
    use super::super::cpu_storage::testing::{max_abs_diff, random};
    use super::*;
    use candle_core::Var;

    /// `W · im2col(x)` is candle's convolution, and its gradients are candle's, for the
    /// windows ResNet uses (7×7/2 stem, 3×3 at strides 1 and 2, 1×1/2 downsampling).
    /// Square inputs at stride 2: candle's input gradient has the wrong width otherwise
    /// (`tests/cnn_reference.rs` checks non-square ones against PyTorch through ResNet).
    #[test]
    fn a_product_with_the_columns_is_candle_s_convolution_both_ways() {
        for (shape, out, k, stride, padding) in [
            ([2, 3, 11, 11], 4, 7, 2, 3),
            ([2, 3, 7, 6], 5, 3, 1, 1),
            ([1, 4, 9, 9], 3, 3, 2, 1),
            ([2, 4, 6, 6], 6, 1, 2, 0),
        ] {
            let run = |conv: &dyn Fn(&Tensor, &Tensor) -> Result<Tensor>| {
                let x = Var::from_tensor(&random(&shape, 2.0, 1)).expect("var");
                let w = Var::from_tensor(&random(&[out, shape[1], k, k], 1.0, 2)).expect("var");
                let y = conv(x.as_tensor(), w.as_tensor()).expect("forward");
                let r = random(y.dims(), 1.0, 3);
                let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
                let dx = grads.get(x.as_tensor()).unwrap().clone();
                let dw = grads.get(w.as_tensor()).unwrap().clone();
                (y, dx, dw)
            };
            let window = Window { k, stride, padding };
            let (y0, dx0, dw0) = run(&|x, w| x.conv2d(w, padding, stride, 1, 1));
            let (y1, dx1, dw1) = run(&|x, w| conv2d(x, w, window));
            assert_eq!(y0.dims(), y1.dims(), "{shape:?} {window:?}");
            for (a, b, what) in [(&y0, &y1, "y"), (&dx0, &dx1, "dx"), (&dw0, &dw1, "dw")] {
                let diff = max_abs_diff(a, b);
                assert!(diff < 1e-4, "{what} {shape:?} {window:?}: {diff}");
            }
        }
    }
}
