//! 2-D max pooling with padding, both ways: `torch.nn.MaxPool2d(kernel, stride, padding)`
//! as ResNet's stem uses it (3×3, stride 2, padding 1).
//!
//! candle's `max_pool2d` has no padding and its backward handles only kernel = stride. Here
//! the padding is −∞ (PyTorch's), each output takes the first largest value of its window
//! in row-major order (a NaN wins, as in PyTorch's CPU kernel), and the backward sends each
//! output's gradient to that one input, recomputing the choice from the input rather than
//! keeping an index tensor.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::cpu_storage::{all_cpu_f32, contiguous_f32};

/// The window of a max pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool {
    /// The window's side.
    pub kernel: usize,
    /// The step between windows.
    pub stride: usize,
    /// −∞ added on every side (at most half the window, as PyTorch requires).
    pub padding: usize,
}

/// The max pooling of `x` `[batch, channels, height, width]`:
/// `[batch, channels, out_h, out_w]` with `out = (in + 2·padding − kernel) / stride + 1`.
/// Gradients reach `x`. On the CPU with `f32` the kernels below run; elsewhere candle's
/// pooling of the input padded with its own edge values (the same maxima: a window over the
/// padding also covers the edge value the padding repeats), whose backward candle supports
/// only for kernel = stride.
///
/// # Errors
/// When the window does not fit the input or the padding exceeds half the window.
pub fn max_pool2d(x: &Tensor, pool: MaxPool) -> Result<Tensor> {
    if all_cpu_f32(&[x]) {
        x.apply_op1(pool)
    } else {
        let padded = x
            .pad_with_same(2, pool.padding, pool.padding)?
            .pad_with_same(3, pool.padding, pool.padding)?;
        padded.max_pool2d_with_stride(pool.kernel, pool.stride)
    }
}

/// The sizes of one pooling.
#[derive(Debug, Clone, Copy)]
struct Dims {
    in_h: usize,
    in_w: usize,
    out_h: usize,
    out_w: usize,
}

impl MaxPool {
    fn dims(&self, x: &Layout) -> Result<(usize, Dims)> {
        let &[batch, channels, in_h, in_w] = x.dims() else {
            candle_core::bail!("max_pool2d: the input must be [batch, channels, h, w]")
        };
        if self.kernel == 0 || self.stride == 0 || 2 * self.padding > self.kernel {
            candle_core::bail!(
                "max_pool2d: kernel {} with stride {} and padding {} (padding at most half the kernel)",
                self.kernel,
                self.stride,
                self.padding
            )
        }
        if in_h + 2 * self.padding < self.kernel || in_w + 2 * self.padding < self.kernel {
            candle_core::bail!(
                "max_pool2d: input {:?} is smaller than the {}×{} window",
                x.dims(),
                self.kernel,
                self.kernel
            )
        }
        let out = |size: usize| (size + 2 * self.padding - self.kernel) / self.stride + 1;
        let dims = Dims {
            in_h,
            in_w,
            out_h: out(in_h),
            out_w: out(in_w),
        };
        Ok((batch * channels, dims))
    }

    /// The input rows (or columns) `lo..hi` the window at output position `o` covers.
    fn span(&self, o: usize, input: usize) -> (usize, usize) {
        let start = (o * self.stride) as i64 - self.padding as i64;
        let end = start + self.kernel as i64;
        (start.max(0) as usize, end.min(input as i64) as usize)
    }

    /// For each output position of one plane, the input position its value comes from.
    fn plane_argmax(&self, d: &Dims, input: &[f32], mut visit: impl FnMut(usize, usize, f32)) {
        for oy in 0..d.out_h {
            let (y_lo, y_hi) = self.span(oy, d.in_h);
            for ox in 0..d.out_w {
                let (x_lo, x_hi) = self.span(ox, d.in_w);
                let mut best = (usize::MAX, f32::NEG_INFINITY);
                for iy in y_lo..y_hi {
                    for ix in x_lo..x_hi {
                        let at = iy * d.in_w + ix;
                        let v = input[at];
                        if best.0 == usize::MAX || v > best.1 || v.is_nan() {
                            best = (at, v);
                            if v.is_nan() {
                                break;
                            }
                        }
                    }
                    if best.1.is_nan() {
                        break;
                    }
                }
                visit(oy * d.out_w + ox, best.0, best.1);
            }
        }
    }
}

impl CustomOp1 for MaxPool {
    fn name(&self) -> &'static str {
        "goodfit-max-pool2d"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (planes, d) = self.dims(layout)?;
        let x = contiguous_f32(storage, layout)?;
        let (plane_in, plane_out) = (d.in_h * d.in_w, d.out_h * d.out_w);
        let mut y = vec![0f32; planes * plane_out];
        y.par_chunks_mut(plane_out)
            .enumerate()
            .for_each(|(plane, out)| {
                let input = &x[plane * plane_in..(plane + 1) * plane_in];
                self.plane_argmax(&d, input, |o, _, v| out[o] = v);
            });
        let dims = layout.dims();
        let shape = Shape::from((dims[0], dims[1], d.out_h, d.out_w));
        Ok((CpuStorage::F32(y), shape))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(x.apply_op2_no_bwd(grad_res, &MaxPoolBwd(*self))?))
    }
}

/// The input gradient of a [`MaxPool`]: from the input and the output's gradient.
struct MaxPoolBwd(MaxPool);

impl CustomOp2 for MaxPoolBwd {
    fn name(&self) -> &'static str {
        "goodfit-max-pool2d-bwd"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (planes, d) = self.0.dims(l1)?;
        let (plane_in, plane_out) = (d.in_h * d.in_w, d.out_h * d.out_w);
        if l2.shape().elem_count() != planes * plane_out {
            candle_core::bail!(
                "max_pool2d backward: gradient {:?} for input {:?}",
                l2.dims(),
                l1.dims()
            )
        }
        let x = contiguous_f32(s1, l1)?;
        let dy = contiguous_f32(s2, l2)?;
        let mut dx = vec![0f32; planes * plane_in];
        dx.par_chunks_mut(plane_in)
            .enumerate()
            .for_each(|(plane, grad)| {
                let input = &x[plane * plane_in..(plane + 1) * plane_in];
                let dy = &dy[plane * plane_out..(plane + 1) * plane_out];
                self.0.plane_argmax(&d, input, |o, at, _| grad[at] += dy[o]);
            });
        Ok((CpuStorage::F32(dx), l1.shape().clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::cpu_storage::testing::{max_abs_diff, random};
    use super::*;
    use candle_core::{Device, Var};

    /// With stride = kernel and no padding the output is candle's. Its gradient is not:
    /// candle's backward scales each output's gradient by the share of its window holding
    /// the maximum (a quarter here), where PyTorch sends all of it to the maximum — so each
    /// output's gradient reaches the input whole (`tests/cnn_reference.rs` checks against
    /// PyTorch).
    #[test]
    fn matches_candle_s_output_and_routes_each_gradient_whole() {
        let x = Var::from_tensor(&random(&[2, 3, 6, 8], 2.0, 1)).expect("var");
        let pool = MaxPool {
            kernel: 2,
            stride: 2,
            padding: 0,
        };
        let y = max_pool2d(x.as_tensor(), pool).unwrap();
        assert!(max_abs_diff(&x.as_tensor().max_pool2d(2).unwrap(), &y) < 1e-7);
        let r = random(&[2, 3, 3, 4], 1.0, 2);
        let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let dx = grads.get(x.as_tensor()).unwrap();
        let nonzero: f32 = dx
            .ne(0f32)
            .unwrap()
            .to_dtype(candle_core::DType::F32)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        assert_eq!(nonzero, 72.0, "one input per output");
        let total = |t: &Tensor| t.sum_all().unwrap().to_scalar::<f32>().unwrap();
        assert!((total(dx) - total(&r)).abs() < 1e-5);
    }

    /// PyTorch's rule by hand: −∞ padding, the first maximum takes the gradient.
    #[test]
    fn pads_with_minus_infinity_and_routes_ties_to_the_first() {
        let x = Var::from_tensor(
            &Tensor::new(&[[[[-1f32, -1.0, -3.0], [-4.0, -5.0, -1.0]]]], &Device::Cpu).unwrap(),
        )
        .unwrap();
        let pool = MaxPool {
            kernel: 3,
            stride: 2,
            padding: 1,
        };
        let y = max_pool2d(x.as_tensor(), pool).unwrap();
        assert_eq!(y.dims(), [1, 1, 1, 2]);
        assert_eq!(
            y.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            [-1.0, -1.0]
        );
        let grads = y.sum_all().unwrap().backward().unwrap();
        let dx: Vec<f32> = grads
            .get(x.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        // The first window (columns 0–1) has the tie at (0, 0) and (0, 1): the first wins;
        // the second (columns 1–2) also takes (0, 1), the first of its ties at −1.
        assert_eq!(dx, [1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn refuses_padding_over_half_the_window() {
        let x = random(&[1, 1, 4, 4], 1.0, 1);
        let pool = MaxPool {
            kernel: 2,
            stride: 2,
            padding: 2,
        };
        let error = max_pool2d(&x, pool).unwrap_err();
        assert!(error.to_string().contains("at most half"), "{error}");
    }
}
