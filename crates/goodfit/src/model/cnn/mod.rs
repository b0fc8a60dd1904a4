//! The layers convolutional image models are made of, each trainable (gradients to its
//! input and weights) and checked against PyTorch: convolutions ([`conv`]) and BatchNorm
//! with its running statistics ([`batch_norm`]).

pub mod batch_norm;
pub mod conv;

pub use batch_norm::BatchNorm2d;
pub use conv::Conv2d;
