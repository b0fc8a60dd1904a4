//! Depthwise 2-D convolution (`groups == channels`, one k×k filter per channel), both ways.
//!
//! candle runs a grouped convolution as one convolution per group and concatenates the
//! results, so a depthwise layer of EfficientNet's (up to 1,152 channels) becomes 1,152
//! tiny convolutions, each with its im2col buffer, forward and again backward. Here each
//! (example, channel) plane is one loop nest over the kernel's taps, the planes spread over
//! the threads; the backward gives the input's and the filter's gradients in one pass.
//! Padding is symmetric and zero, as `torch.nn.Conv2d(padding=p)` pads; there is no bias
//! (the models that use these layers follow them with BatchNorm).

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::cpu_storage::{all_cpu_f32, contiguous_f32};
use super::im2col::valid_outputs;

/// The stride and padding of a depthwise convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthwiseConv {
    /// The step between output positions, in input pixels.
    pub stride: usize,
    /// Zeros added on every side.
    pub padding: usize,
}

/// The convolution of `x` `[batch, channels, height, width]` with `weight`
/// `[channels, 1, k, k]`, channel by channel: `[batch, channels, out_h, out_w]` with
/// `out = (in + 2·padding − k) / stride + 1`. Gradients reach both inputs. On the CPU with
/// `f32` tensors both directions are the kernels below; elsewhere candle's grouped
/// convolution runs, computing the same values.
///
/// # Errors
/// When the shapes do not fit together, or dtypes and devices disagree.
pub fn depthwise_conv2d(x: &Tensor, weight: &Tensor, conv: DepthwiseConv) -> Result<Tensor> {
    if all_cpu_f32(&[x, weight]) {
        x.apply_op2(weight, conv)
    } else {
        let channels = x.dim(1)?;
        x.conv2d(weight, conv.padding, conv.stride, 1, channels)
    }
}

/// The sizes of one convolution.
#[derive(Debug, Clone, Copy)]
struct Dims {
    batch: usize,
    channels: usize,
    in_h: usize,
    in_w: usize,
    k: usize,
    out_h: usize,
    out_w: usize,
}

impl DepthwiseConv {
    fn dims(&self, x: &Layout, weight: &Layout) -> Result<Dims> {
        let &[batch, channels, in_h, in_w] = x.dims() else {
            candle_core::bail!("depthwise_conv2d: the input must be [batch, channels, h, w]")
        };
        let &[wc, 1, k, k2] = weight.dims() else {
            candle_core::bail!("depthwise_conv2d: the filter must be [channels, 1, k, k]")
        };
        if wc != channels || k != k2 || k == 0 || self.stride == 0 {
            candle_core::bail!(
                "depthwise_conv2d: filter {:?} does not fit input {:?} (stride {})",
                weight.dims(),
                x.dims(),
                self.stride
            )
        }
        if in_h + 2 * self.padding < k || in_w + 2 * self.padding < k {
            candle_core::bail!(
                "depthwise_conv2d: input {:?} is smaller than the {k}×{k} filter",
                x.dims()
            )
        }
        let out = |size: usize| (size + 2 * self.padding - k) / self.stride + 1;
        Ok(Dims {
            batch,
            channels,
            in_h,
            in_w,
            k,
            out_h: out(in_h),
            out_w: out(in_w),
        })
    }

    fn valid(&self, output: usize, input: usize, tap: usize) -> (usize, usize) {
        valid_outputs((self.stride, self.padding), output, input, tap)
    }

    /// The input position of output position `o` at kernel tap `tap` (in the valid range).
    fn input_at(&self, o: usize, tap: usize) -> usize {
        o * self.stride + tap - self.padding
    }
}

impl CustomOp2 for DepthwiseConv {
    fn name(&self) -> &'static str {
        "goodfit-depthwise-conv2d"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = self.dims(l1, l2)?;
        let x = contiguous_f32(s1, l1)?;
        let w = contiguous_f32(s2, l2)?;
        let (plane_in, plane_out, taps) = (d.in_h * d.in_w, d.out_h * d.out_w, d.k * d.k);
        let mut y = vec![0f32; d.batch * d.channels * plane_out];
        if plane_out > 0 {
            y.par_chunks_mut(plane_out)
                .enumerate()
                .for_each(|(plane, out)| {
                    let c = plane % d.channels;
                    let input = &x[plane * plane_in..(plane + 1) * plane_in];
                    let filter = &w[c * taps..(c + 1) * taps];
                    self.plane_forward(&d, input, filter, out);
                });
        }
        let shape = Shape::from((d.batch, d.channels, d.out_h, d.out_w));
        Ok((CpuStorage::F32(y), shape))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let packed = x.apply_op3_no_bwd(weight, grad_res, &DepthwiseConvBwd(*self))?;
        let dx = packed.narrow(0, 0, x.elem_count())?.reshape(x.shape())?;
        let dw = packed
            .narrow(0, x.elem_count(), weight.elem_count())?
            .reshape(weight.shape())?;
        Ok((Some(dx), Some(dw)))
    }
}

impl DepthwiseConv {
    /// One plane's output: for each tap, the shifted input rows times the tap's weight.
    fn plane_forward(&self, d: &Dims, input: &[f32], filter: &[f32], out: &mut [f32]) {
        for ky in 0..d.k {
            let (y_lo, y_hi) = self.valid(d.out_h, d.in_h, ky);
            for kx in 0..d.k {
                let (x_lo, x_hi) = self.valid(d.out_w, d.in_w, kx);
                let tap = filter[ky * d.k + kx];
                for oy in y_lo..y_hi {
                    let row = &input[self.input_at(oy, ky) * d.in_w..][..d.in_w];
                    let out_row = &mut out[oy * d.out_w..(oy + 1) * d.out_w];
                    if self.stride == 1 {
                        let start = self.input_at(x_lo, kx);
                        let src = &row[start..start + (x_hi - x_lo)];
                        for (o, &v) in out_row[x_lo..x_hi].iter_mut().zip(src) {
                            *o += tap * v;
                        }
                    } else {
                        for (ox, o) in out_row.iter_mut().enumerate().take(x_hi).skip(x_lo) {
                            *o += tap * row[self.input_at(ox, kx)];
                        }
                    }
                }
            }
        }
    }

    /// One plane's input gradient (added into `dx`) and its share of the filter gradient.
    fn plane_backward(
        &self,
        d: &Dims,
        input: &[f32],
        filter: &[f32],
        dy: &[f32],
        dx: &mut [f32],
        dw: &mut [f32],
    ) {
        for ky in 0..d.k {
            let (y_lo, y_hi) = self.valid(d.out_h, d.in_h, ky);
            for kx in 0..d.k {
                let (x_lo, x_hi) = self.valid(d.out_w, d.in_w, kx);
                let tap = filter[ky * d.k + kx];
                let mut tap_grad = 0f32;
                for oy in y_lo..y_hi {
                    let iy = self.input_at(oy, ky) * d.in_w;
                    let dy_row = &dy[oy * d.out_w..(oy + 1) * d.out_w];
                    for (ox, &g) in dy_row.iter().enumerate().take(x_hi).skip(x_lo) {
                        let ix = iy + self.input_at(ox, kx);
                        dx[ix] += g * tap;
                        tap_grad += g * input[ix];
                    }
                }
                dw[ky * d.k + kx] += tap_grad;
            }
        }
    }
}

/// The backward kernel, `(x, weight, dy) → packed`: `dx` (as long as `x`), then `dweight`.
struct DepthwiseConvBwd(DepthwiseConv);

impl CustomOp3 for DepthwiseConvBwd {
    fn name(&self) -> &'static str {
        "goodfit-depthwise-conv2d-bwd"
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
        let conv = self.0;
        let d = conv.dims(l1, l2)?;
        if l3.dims() != [d.batch, d.channels, d.out_h, d.out_w] {
            candle_core::bail!(
                "depthwise_conv2d backward: gradient shape {:?} does not match the output",
                l3.dims()
            )
        }
        let x = contiguous_f32(s1, l1)?;
        let w = contiguous_f32(s2, l2)?;
        let dy = contiguous_f32(s3, l3)?;
        let (plane_in, plane_out, taps) = (d.in_h * d.in_w, d.out_h * d.out_w, d.k * d.k);
        let planes = d.batch * d.channels;
        let mut dx = vec![0f32; planes * plane_in];
        // Each plane's filter gradient apart, summed over the batch below: no two threads
        // write the same number.
        let mut dw_planes = vec![0f32; planes * taps];
        if plane_in > 0 {
            dx.par_chunks_mut(plane_in)
                .zip(dw_planes.par_chunks_mut(taps))
                .enumerate()
                .for_each(|(plane, (dx, dw))| {
                    let c = plane % d.channels;
                    conv.plane_backward(
                        &d,
                        &x[plane * plane_in..(plane + 1) * plane_in],
                        &w[c * taps..(c + 1) * taps],
                        &dy[plane * plane_out..(plane + 1) * plane_out],
                        dx,
                        dw,
                    );
                });
        }
        let mut dw = vec![0f32; d.channels * taps];
        for example in dw_planes.chunks_exact(d.channels * taps) {
            for (sum, &v) in dw.iter_mut().zip(example) {
                *sum += v;
            }
        }
        dx.extend_from_slice(&dw);
        let len = dx.len();
        Ok((CpuStorage::F32(dx), Shape::from(len)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::cpu_storage::testing::{max_abs_diff, random};
    use super::*;
    use candle_core::Var;

    /// Output and both gradients of `loss = Σ y·r` for a fixed random `r`.
    fn run(
        shape: &[usize],
        k: usize,
        f: impl Fn(&Tensor, &Tensor) -> Result<Tensor>,
    ) -> (Tensor, Tensor, Tensor) {
        let x = Var::from_tensor(&random(shape, 2.0, 1)).expect("var");
        let w = Var::from_tensor(&random(&[shape[1], 1, k, k], 1.0, 2)).expect("var");
        let y = f(x.as_tensor(), w.as_tensor()).expect("forward");
        let r = random(y.dims(), 1.0, 3);
        let grads = (&y * &r)
            .and_then(|t| t.sum_all())
            .and_then(|l| l.backward())
            .expect("backward");
        let dx = grads.get(x.as_tensor()).expect("dx").clone();
        let dw = grads.get(w.as_tensor()).expect("dw").clone();
        (y, dx, dw)
    }

    /// The kernels give what candle's grouped convolution (one convolution per channel,
    /// with candle's own backward) gives, for EfficientNet's 3×3 and 5×5 filters. candle's
    /// backward is right at stride 2 only for square inputs (it pads the input gradient by
    /// the height alone); `tests/cnn_reference.rs` checks every case against PyTorch.
    #[test]
    fn matches_candle_grouped_convolution_both_ways() {
        for (shape, k, stride) in [
            ([2, 3, 7, 6], 3, 1),
            ([1, 4, 9, 8], 5, 1),
            ([2, 3, 8, 8], 3, 2),
            ([3, 2, 9, 9], 5, 2),
        ] {
            let conv = DepthwiseConv {
                stride,
                padding: (stride - 1 + k - 1) / 2,
            };
            let grouped = |x: &Tensor, w: &Tensor| x.conv2d(w, conv.padding, stride, 1, x.dim(1)?);
            let (y0, dx0, dw0) = run(&shape, k, grouped);
            let (y1, dx1, dw1) = run(&shape, k, |x, w| x.apply_op2(w, conv));
            assert_eq!(y0.dims(), y1.dims(), "{shape:?} k{k} s{stride}");
            for (a, b, what) in [(&y0, &y1, "y"), (&dx0, &dx1, "dx"), (&dw0, &dw1, "dw")] {
                let diff = max_abs_diff(a, b);
                assert!(diff < 1e-5, "{what} {shape:?} k{k} s{stride}: {diff}");
            }
        }
    }

    #[test]
    fn refuses_filters_that_do_not_fit() {
        let conv = DepthwiseConv {
            stride: 1,
            padding: 1,
        };
        let x = random(&[1, 3, 5, 5], 1.0, 1);
        let error = depthwise_conv2d(&x, &random(&[4, 1, 3, 3], 1.0, 2), conv).unwrap_err();
        assert!(error.to_string().contains("does not fit"), "{error}");
    }
}
