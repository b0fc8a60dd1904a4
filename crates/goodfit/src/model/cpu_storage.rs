//! Reading a CPU tensor's storage from goodfit's custom ops (LayerNorm, GELU, attention
//! softmax), whose inputs may arrive with any layout.

use std::borrow::Cow;

use candle_core::{CpuStorage, Layout, Result};

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
