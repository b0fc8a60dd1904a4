//! Reading a CPU tensor's storage from goodfit's custom ops (LayerNorm, GELU, attention
//! softmax), whose inputs may arrive with any layout.

use std::borrow::Cow;

use candle_core::{CpuStorage, DType, Device, Layout, Result, Tensor};

/// Whether every tensor is an `f32` tensor on the CPU, where goodfit's fused kernels run;
/// elsewhere the callers fall back to composed candle ops, which carry gradients on every
/// device.
pub(crate) fn all_cpu_f32(tensors: &[&Tensor]) -> bool {
    tensors
        .iter()
        .all(|t| matches!(t.device(), Device::Cpu) && t.dtype() == DType::F32)
}

/// The elements of a CPU `f32` tensor in row-major order: borrowed when the layout is
/// already contiguous, otherwise gathered through the strides (transposes, narrows and the
/// stride-0 broadcasts that `sum_all`'s backward produces all arrive here).
pub(crate) fn contiguous_f32<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
) -> Result<Cow<'a, [f32]>> {
    let data = storage.as_slice::<f32>()?;
    let out_of_bounds = || candle_core::Error::msg("custom op: a layout exceeds its storage");
    if let Some((start, end)) = layout.contiguous_offsets() {
        return data
            .get(start..end)
            .map(Cow::Borrowed)
            .ok_or_else(out_of_bounds);
    }
    let (dims, stride) = (layout.dims(), layout.stride());
    let count = layout.shape().elem_count();
    let Some((&line, outer)) = dims.split_last() else {
        // A scalar is always contiguous, so this is unreachable; an error beats a panic.
        return Err(out_of_bounds());
    };
    if count == 0 {
        return Ok(Cow::Owned(Vec::new()));
    }
    // Check the furthest element once so the copy loops below cannot index out of bounds.
    let last = layout.start_offset()
        + dims
            .iter()
            .zip(stride)
            .map(|(&d, &s)| (d - 1) * s)
            .sum::<usize>();
    if last >= data.len() {
        return Err(out_of_bounds());
    }
    let line_stride = stride[outer.len()];
    let mut out = Vec::with_capacity(count);
    let mut index = vec![0usize; outer.len()];
    let mut offset = layout.start_offset();
    loop {
        if line_stride == 1 {
            out.extend_from_slice(&data[offset..offset + line]);
        } else {
            out.extend((0..line).map(|i| data[offset + i * line_stride]));
        }
        // Advance the outer index like an odometer, keeping `offset` in step.
        let mut k = outer.len();
        loop {
            if k == 0 {
                return Ok(Cow::Owned(out));
            }
            k -= 1;
            index[k] += 1;
            offset += stride[k];
            if index[k] < outer[k] {
                break;
            }
            offset -= stride[k] * outer[k];
            index[k] = 0;
        }
    }
}

/// Splits a fused backward's packed result — the rows of the input's gradient, then one
/// row per parameter gradient (a custom op returns one tensor) — into the input's gradient,
/// shaped like `x`, and the row where the parameter gradients start. Rows are counted from
/// the dimensions, not `elem_count / size`, which fails for size 0.
pub(crate) fn split_packed_grad(packed: &Tensor, x: &Tensor) -> Result<(Tensor, usize)> {
    let rows: usize = x
        .dims()
        .split_last()
        .map_or(1, |(_, outer)| outer.iter().product());
    Ok((packed.narrow(0, 0, rows)?.reshape(x.shape())?, rows))
}

/// Helpers for the kernels' tests.
#[cfg(test)]
pub(crate) mod testing {
    use candle_core::{DType, Device, Tensor};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Values uniform in [−`half_width`, `half_width`) from a fixed seed, so failures reproduce.
    pub fn random(shape: &[usize], half_width: f32, seed: u64) -> Tensor {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n: usize = shape.iter().product();
        let data: Vec<f32> = (0..n)
            .map(|_| (rng.random::<f32>() * 2.0 - 1.0) * half_width)
            .collect();
        Tensor::from_vec(data, shape, &Device::Cpu).expect("valid shape")
    }

    /// The largest absolute difference between two tensors of the same shape.
    pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
        let f32 = |t: &Tensor| t.to_dtype(DType::F32).expect("convertible");
        (f32(a) - f32(b))
            .and_then(|d| d.abs()?.flatten_all()?.max(0)?.to_scalar::<f32>())
            .expect("same shapes")
    }
}
