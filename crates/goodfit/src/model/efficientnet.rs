//! EfficientNet-Lite0 (Tan & Le 2019; the "Lite" variant without squeeze-and-excitation,
//! with ReLU6 and a fixed stem and head) as a [`Backbone`], under timm's weight names
//! (`timm/models/efficientnet.py`, `_gen_efficientnet_lite` with
//! `efficientnet_lite0`'s arch_def): a 3×3 stride-2 stem to 32 channels, 16 blocks — one
//! depthwise-separable block, then inverted residuals (1×1 expansion ×6, k×k depthwise,
//! 1×1 projection, a skip where shape allows) — then a 1×1 convolution to 1,280 channels
//! and global average pooling. Every convolution is followed by BatchNorm.
//!
//! For `--train-layers`, the blocks count from the input: the 16 blocks, then the 1×1 head
//! convolution as block 16 (so `--train-layers 1` trains it and the head). The stem trains
//! only with `all`.

use crate::error::{Error, Result};

use super::backbone::{Backbone, Part, Place};
use super::bert::TrainLayers;
use super::classifier::{head_place, ClassifierSpec};
use super::cnn::batch_norm;
use super::cnn::conv::ConvKind;
use super::cnn::conv_bn::{Activation, ConvBn};
use super::cnn::network::{frozen_blocks, trainable_blocks, Block, CnnBackbone, Sequence};
use super::config::HeadActivation;
use super::family::{Architecture, Family};
use super::model_config::ModelConfig;
use super::params::Params;
use super::preprocess::Preprocessor;

/// EfficientNet-Lite0 under timm's names (`goodfit import-weights` writes such a folder).
pub const EFFICIENTNET_LITE0: Family = Family {
    name: "efficientnet_lite0",
    model_types: &["efficientnet_lite0"],
    weight_prefix: "",
    classifier_name: "EfficientNetLite0",
    has_segments: false,
    head_activation: HeadActivation::Relu,
    positions_after_padding: false,
    renames: None,
    read_config: ModelConfig::read_image,
    blocks: |_| block_count(),
    build,
    preprocessor: Preprocessor::of_image_model,
    block_prefix: |index| format!("{}.", block_names()[index]),
};

/// The backbone, as the family builds it.
fn build(
    params: &mut Params,
    config: &ModelConfig,
    _architecture: Architecture,
    spec: &ClassifierSpec,
) -> Result<Box<dyn Backbone>> {
    let config = config.image()?;
    Ok(Box::new(EfficientNetLite::load(
        params,
        spec.train_layers,
        config.image_size,
        config.bn_eps,
        false,
    )?))
}

/// The stages after the first block: (repeats, kernel, stride, output channels), all with
/// expansion 6 (`ir_r2_k3_s2_e6_c24`, …).
const STAGES: [(usize, usize, usize, usize); 6] = [
    (2, 3, 2, 24),
    (2, 5, 2, 40),
    (3, 3, 2, 80),
    (3, 5, 1, 112),
    (4, 5, 2, 192),
    (1, 3, 1, 320),
];
const STEM_CHANNELS: usize = 32;
const FIRST_BLOCK_CHANNELS: usize = 16;
const EXPANSION: usize = 6;
/// The width of the features the head reads.
pub const FEATURES: usize = 1280;

/// One convolution of the network and the BatchNorm after it, in state-dict order.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSpec {
    /// The convolution's name (`blocks.1.0.conv_pw`).
    pub conv: String,
    /// Its BatchNorm's name (`blocks.1.0.bn1`).
    pub bn: String,
    /// The filters' shape `[out, in / groups, k, k]`.
    pub shape: [usize; 4],
    /// Its stride.
    pub stride: usize,
    /// Dense or depthwise.
    pub kind: ConvKind,
    /// Whether ReLU6 follows the BatchNorm.
    pub act: bool,
    /// The block it belongs to (`None`: the stem).
    pub block: Option<usize>,
}

/// Every layer of EfficientNet-Lite0, from the input: the architecture, defined once (the
/// backbone is built from it and checkpoints are mapped onto it).
pub fn block_shapes() -> Vec<LayerSpec> {
    let mut layers = Vec::new();
    let mut push = |conv: String, bn: String, shape: [usize; 4], stride, act, block| {
        let kind = if shape[1] == 1 && shape[2] > 1 {
            ConvKind::Depthwise
        } else {
            ConvKind::Dense
        };
        layers.push(LayerSpec {
            conv,
            bn,
            shape,
            stride,
            kind,
            act,
            block,
        });
    };
    push(
        "conv_stem".into(),
        "bn1".into(),
        [STEM_CHANNELS, 3, 3, 3],
        2,
        true,
        None,
    );
    let (c, p) = (STEM_CHANNELS, "blocks.0.0");
    push(
        format!("{p}.conv_dw"),
        format!("{p}.bn1"),
        [c, 1, 3, 3],
        1,
        true,
        Some(0),
    );
    let c_out = FIRST_BLOCK_CHANNELS;
    push(
        format!("{p}.conv_pw"),
        format!("{p}.bn2"),
        [c_out, c, 1, 1],
        1,
        false,
        Some(0),
    );
    let mut c_in = c_out;
    let mut block = 1;
    for (s, &(repeats, k, stride, c_out)) in STAGES.iter().enumerate() {
        for r in 0..repeats {
            let p = format!("blocks.{}.{r}", s + 1);
            let mid = c_in * EXPANSION;
            let stride = if r == 0 { stride } else { 1 };
            let b = Some(block);
            push(
                format!("{p}.conv_pw"),
                format!("{p}.bn1"),
                [mid, c_in, 1, 1],
                1,
                true,
                b,
            );
            push(
                format!("{p}.conv_dw"),
                format!("{p}.bn2"),
                [mid, 1, k, k],
                stride,
                true,
                b,
            );
            push(
                format!("{p}.conv_pwl"),
                format!("{p}.bn3"),
                [c_out, mid, 1, 1],
                1,
                false,
                b,
            );
            c_in = c_out;
            block += 1;
        }
    }
    push(
        "conv_head".into(),
        "bn2".into(),
        [FEATURES, c_in, 1, 1],
        1,
        true,
        Some(block),
    );
    layers
}

/// The names of the blocks, from the input: `blocks.0.0`, …, `blocks.6.0`, then `conv_head`.
pub fn block_names() -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for spec in block_shapes() {
        if spec.block == Some(names.len()) {
            let name = spec
                .conv
                .rsplit_once('.')
                .map_or(spec.conv.as_str(), |(b, _)| b);
            names.push(name.to_string());
        }
    }
    names
}

/// How many blocks `--train-layers` counts: the 16 blocks and the head convolution.
pub fn block_count() -> usize {
    block_names().len()
}

/// EfficientNet-Lite0 without its classifier: [`EfficientNetLite::load`] builds it.
pub struct EfficientNetLite;

impl EfficientNetLite {
    /// The backbone from `params` (timm's names) for `image_size`-pixel pictures, training
    /// what `train_layers` says; `eps` is BatchNorm's epsilon and `bn_freeze` keeps every
    /// BatchNorm's statistics frozen, in trainable blocks too (fastai's `BnFreeze`).
    pub fn load(
        params: &mut Params,
        train_layers: TrainLayers,
        image_size: usize,
        eps: f64,
        bn_freeze: bool,
    ) -> Result<CnnBackbone> {
        let count = block_count();
        let trains = trainable_blocks(train_layers, count)?;
        let stem_trains = train_layers == TrainLayers::All;
        let mut stem = None;
        let mut blocks: Vec<Sequence> = Vec::new();
        for spec in block_shapes() {
            let trainable = spec.block.map_or(stem_trains, |b| trains[b]);
            let layer = ConvBn::load(
                params,
                (&spec.conv, &spec.bn),
                spec.shape,
                (spec.stride, spec.kind),
                Activation::Relu6.when(spec.act),
                eps,
                (trainable, bn_freeze),
            )?;
            match spec.block {
                None => stem = Some(layer),
                Some(b) if b == blocks.len() => blocks.push(Sequence {
                    layers: vec![layer],
                    skip: false,
                }),
                Some(_) => {
                    if let Some(block) = blocks.last_mut() {
                        block.layers.push(layer);
                    }
                }
            }
        }
        // An inverted residual adds its input when its output has the same shape.
        for block in &mut blocks {
            let first = &block.layers[0].conv;
            let last = &block.layers[block.layers.len() - 1].conv;
            let (c_in, c_out) = (first.inputs(), last.outputs());
            block.skip = block.layers.len() == 3
                && c_in == c_out
                && block.layers.iter().all(|l| l.conv.stride() == 1);
        }
        let stem = stem.ok_or_else(|| Error::Invalid("EfficientNet-Lite0 has no stem".into()))?;
        let frozen = frozen_blocks(stem_trains, &trains);
        Ok(CnnBackbone::new(
            Box::new(Sequence {
                layers: vec![stem],
                skip: false,
            }),
            blocks
                .into_iter()
                .map(|b| Box::new(b) as Box<dyn Block>)
                .collect(),
            (frozen, prefix_floats(image_size, frozen)),
            FEATURES,
            Box::new(place),
        ))
    }
}

/// Channels × height × width of the output of the stem and the first `frozen` blocks of
/// `image_size`-pixel pictures.
fn prefix_floats(image_size: usize, frozen: usize) -> usize {
    let mut side = image_size;
    let mut channels = 3;
    for spec in block_shapes() {
        if spec.block.is_some_and(|b| b >= frozen) {
            break;
        }
        side = side.div_ceil(spec.stride);
        channels = spec.shape[0];
    }
    channels * side * side
}

/// Where an EfficientNet weight sits: `blocks.S.R.…` in its block, `conv_head`/`bn2` in
/// the last block, the stem's below; BatchNorm weights and biases take no weight decay
/// (timm's `param_groups_weight_decay` exempts every 1-D weight).
pub fn place(name: &str) -> Place {
    if let Some(head) = head_place(name) {
        return head;
    }
    let names = block_names();
    let found = names
        .iter()
        .position(|block| {
            name.strip_prefix(block.as_str())
                .is_some_and(|rest| rest.starts_with('.'))
        })
        .or_else(|| name.starts_with("bn2.").then_some(names.len() - 1));
    let (layer, part) = match found {
        Some(i) => (names[i].clone(), Part::Block(i)),
        None => ("stem".to_string(), Part::Stem),
    };
    let one_dimensional = name.contains(".bn") || name.starts_with("bn") || name.ends_with(".bias");
    Place {
        layer,
        part,
        decays: !one_dimensional,
    }
}

/// timm's BatchNorm epsilon for EfficientNet-Lite (PyTorch's default).
pub const BN_EPS: f64 = batch_norm::EPS;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_counted_and_weights_placed_by_timm_names() {
        assert_eq!(block_count(), 17);
        assert_eq!(block_names()[1], "blocks.1.0");
        assert_eq!(block_names()[15], "blocks.6.0");
        let dw = place("blocks.2.1.conv_dw.weight");
        assert_eq!(
            (dw.layer.as_str(), &dw.part, dw.decays),
            ("blocks.2.1", &Part::Block(4), true)
        );
        assert!(!place("blocks.2.1.bn2.weight").decays);
        assert_eq!(place("conv_head.weight").part, Part::Block(16));
        assert_eq!(place("bn2.bias").part, Part::Block(16));
        assert_eq!(place("conv_stem.weight").part, Part::Stem);
        assert_eq!(place("bn1.weight").part, Part::Stem);
        assert_eq!(place("classifier.weight").part, Part::Head);
    }
}
