//! The fused CPU kernels the trainable models run on, each with its backward pass
//! (candle's own fused LayerNorm and softmax have none, its pooling's is partial):
//! LayerNorm, the attention softmax with its mask, bias + GELU, depthwise convolution,
//! BatchNorm, max pooling, and the fast math and storage access they share. Another device
//! takes candle's tensor ops instead, computing the same values.

pub mod attention_softmax;
pub mod batch_norm;
pub(crate) mod cpu_storage;
pub mod depthwise_conv;
mod fast_math;
pub mod gelu;
pub mod im2col;
pub mod layer_norm;
pub mod max_pool;
