//! The layers convolutional image models are made of, each trainable (gradients to its
//! input and weights) and checked against PyTorch: convolutions ([`conv`]), BatchNorm
//! with its running statistics ([`batch_norm`]), and the convolution–BatchNorm–activation
//! unit with what every CNN backbone shares ([`conv_bn`]), and the backbone of a stem and
//! blocks that EfficientNet and ResNet both are ([`network`]).

pub mod batch_norm;
pub mod conv;
pub mod conv_bn;
pub mod network;

pub use batch_norm::BatchNorm2d;
pub use conv::Conv2d;
pub use conv_bn::{Activation, ConvBn};
pub use network::{Block, CnnBackbone, Sequence};
