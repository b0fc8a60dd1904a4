//! ResNet (He et al. 2016) as torchvision builds it (`torchvision/models/resnet.py`; timm's
//! `resnet18` … `resnet152` have the same layers under the same names): a 7×7 stride-2 stem
//! convolution, BatchNorm, ReLU and a 3×3 stride-2 max pooling, then four stages of
//! residual blocks — basic blocks (two 3×3 convolutions) for ResNet-18/34, bottlenecks
//! (1×1, 3×3, 1×1 to four times the width, the stride on the 3×3: "v1.5") for 50/101/152 —
//! each adding its input (through a 1×1 convolution and BatchNorm where the shape changes)
//! before a ReLU, and global average pooling.
//!
//! For `--train-layers`, the residual blocks count from the input (`layer1.0` is block 0;
//! ResNet-18 has 8); the stem trains only with `all`. The classifier `fc` is goodfit's head
//! (`classifier`) on loading and `fc` again when saved, so a saved model loads in
//! torchvision and timm.

use std::collections::HashMap;

use candle_core::Tensor;

use crate::error::{Error, Result};

use super::backbone::{Backbone, Part, Place};
use super::bert::TrainLayers;
use super::classifier::{head_place, ClassifierSpec, HEAD_PREFIX};
use super::cnn::batch_norm::BatchNorm2d;
use super::cnn::conv::ConvKind;
use super::cnn::conv_bn::{Activation, ConvBn};
use super::cnn::network::{frozen_blocks, trainable_blocks, Block, CnnBackbone};
use super::config::HeadActivation;
use super::dropout::Mode;
use super::family::{Architecture, Family, Renames};
use super::kernels::max_pool::{max_pool2d, MaxPool};
use super::model_config::ModelConfig;
use super::params::Params;
use super::preprocess::Preprocessor;

/// The shape of one ResNet depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Depth {
    /// `resnet18`, …
    pub name: &'static str,
    /// Residual blocks per stage.
    pub stages: [usize; 4],
    /// Bottleneck blocks (output 4× the stage width) rather than basic ones.
    pub bottleneck: bool,
}

/// The depths torchvision and timm publish.
pub const DEPTHS: [Depth; 5] = [
    Depth {
        name: "resnet18",
        stages: [2, 2, 2, 2],
        bottleneck: false,
    },
    Depth {
        name: "resnet34",
        stages: [3, 4, 6, 3],
        bottleneck: false,
    },
    Depth {
        name: "resnet50",
        stages: [3, 4, 6, 3],
        bottleneck: true,
    },
    Depth {
        name: "resnet101",
        stages: [3, 4, 23, 3],
        bottleneck: true,
    },
    Depth {
        name: "resnet152",
        stages: [3, 8, 36, 3],
        bottleneck: true,
    },
];

const STEM_CHANNELS: usize = 64;
const WIDTHS: [usize; 4] = [64, 128, 256, 512];
/// The stem's max pooling.
const STEM_POOL: MaxPool = MaxPool {
    kernel: 3,
    stride: 2,
    padding: 1,
};

impl Depth {
    /// The depth a `model_type` names.
    pub fn of(model_type: &str) -> Result<Depth> {
        DEPTHS
            .into_iter()
            .find(|d| d.name == model_type)
            .ok_or_else(|| Error::Invalid(format!("'{model_type}' is not a ResNet depth")))
    }

    /// The width of the pooled features: 512, or 2,048 with bottlenecks.
    pub fn features(self) -> usize {
        WIDTHS[3] * self.expansion()
    }

    fn expansion(self) -> usize {
        if self.bottleneck {
            4
        } else {
            1
        }
    }

    /// The residual blocks' names from the input: `layer1.0`, `layer1.1`, …
    pub fn block_names(self) -> Vec<String> {
        let mut names = Vec::new();
        for (s, &repeats) in self.stages.iter().enumerate() {
            names.extend((0..repeats).map(|r| format!("layer{}.{r}", s + 1)));
        }
        names
    }

    /// Every convolution with its BatchNorm, in state-dict order (the stem's, then each
    /// block's main path and, where it has one, its downsampling path).
    pub fn layers(self) -> Vec<LayerSpec> {
        let mut layers = vec![LayerSpec {
            conv: "conv1".into(),
            bn: "bn1".into(),
            shape: [STEM_CHANNELS, 3, 7, 7],
            stride: 2,
            act: true,
            block: None,
            downsample: false,
        }];
        let mut c_in = STEM_CHANNELS;
        let mut block = 0;
        for (s, &repeats) in self.stages.iter().enumerate() {
            let width = WIDTHS[s];
            let c_out = width * self.expansion();
            for r in 0..repeats {
                let p = format!("layer{}.{r}", s + 1);
                let stride = if r == 0 && s > 0 { 2 } else { 1 };
                let main: Vec<([usize; 4], usize)> = if self.bottleneck {
                    vec![
                        ([width, c_in, 1, 1], 1),
                        ([width, width, 3, 3], stride),
                        ([c_out, width, 1, 1], 1),
                    ]
                } else {
                    vec![([width, c_in, 3, 3], stride), ([c_out, width, 3, 3], 1)]
                };
                let last = main.len();
                for (i, (shape, stride)) in main.into_iter().enumerate() {
                    layers.push(LayerSpec {
                        conv: format!("{p}.conv{}", i + 1),
                        bn: format!("{p}.bn{}", i + 1),
                        shape,
                        stride,
                        act: i + 1 < last,
                        block: Some(block),
                        downsample: false,
                    });
                }
                if stride != 1 || c_in != c_out {
                    layers.push(LayerSpec {
                        conv: format!("{p}.downsample.0"),
                        bn: format!("{p}.downsample.1"),
                        shape: [c_out, c_in, 1, 1],
                        stride,
                        act: false,
                        block: Some(block),
                        downsample: true,
                    });
                }
                c_in = c_out;
                block += 1;
            }
        }
        layers
    }

    /// Channels × height × width after the stem and the first `frozen` blocks of
    /// `image_size`-pixel pictures.
    fn prefix_floats(self, image_size: usize, frozen: usize) -> usize {
        // The stem convolution and its max pooling each halve the side (rounding up).
        let mut side = image_size.div_ceil(2).div_ceil(2);
        let mut channels = STEM_CHANNELS;
        for spec in self.layers() {
            if spec.block.is_none_or(|b| b >= frozen) || spec.downsample {
                continue;
            }
            side = side.div_ceil(spec.stride);
            channels = spec.shape[0];
        }
        channels * side * side
    }
}

/// One convolution of a ResNet and the BatchNorm after it.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerSpec {
    /// The convolution's name (`layer2.0.conv1`).
    pub conv: String,
    /// Its BatchNorm's name (`layer2.0.bn1`).
    pub bn: String,
    /// The filters' shape `[out, in, k, k]`.
    pub shape: [usize; 4],
    /// Its stride.
    pub stride: usize,
    /// Whether ReLU follows the BatchNorm (the last of a block's main path waits for the
    /// addition).
    pub act: bool,
    /// The residual block it belongs to (`None`: the stem).
    pub block: Option<usize>,
    /// Whether it is the block's downsampling path (`downsample.0`/`.1`).
    pub downsample: bool,
}

/// A residual block: its main path, the path its input takes to the addition, a ReLU.
struct Residual {
    main: Vec<ConvBn>,
    downsample: Option<ConvBn>,
}

impl Block for Residual {
    fn forward(&self, x: &Tensor, mode: &Mode) -> Result<Tensor> {
        let mut y = x.clone();
        for layer in &self.main {
            y = layer.forward(&y, mode)?;
        }
        let identity = match &self.downsample {
            Some(path) => path.forward(x, mode)?,
            None => x.clone(),
        };
        Ok((y + identity)?.relu()?)
    }

    fn batch_norms(&self) -> Vec<&BatchNorm2d> {
        self.main
            .iter()
            .chain(&self.downsample)
            .map(|l| &l.bn)
            .collect()
    }
}

/// The stem: convolution, BatchNorm, ReLU, max pooling.
struct Stem(ConvBn);

impl Block for Stem {
    fn forward(&self, x: &Tensor, mode: &Mode) -> Result<Tensor> {
        Ok(max_pool2d(&self.0.forward(x, mode)?, STEM_POOL)?)
    }

    fn batch_norms(&self) -> Vec<&BatchNorm2d> {
        vec![&self.0.bn]
    }
}

/// A ResNet without its classifier: [`ResNet::load`] builds it.
pub struct ResNet;

impl ResNet {
    /// The backbone of `depth` from `params` (torchvision's names) for `image_size`-pixel
    /// pictures, training what `train_layers` says; `eps` is BatchNorm's epsilon and
    /// `bn_freeze` keeps every BatchNorm's statistics frozen (fastai's `BnFreeze`).
    pub fn load(
        params: &mut Params,
        depth: Depth,
        train_layers: TrainLayers,
        image_size: usize,
        eps: f64,
        bn_freeze: bool,
    ) -> Result<CnnBackbone> {
        let count = depth.block_names().len();
        let trains = trainable_blocks(train_layers, count)?;
        let stem_trains = train_layers == TrainLayers::All;
        let mut stem = None;
        let mut blocks: Vec<Residual> = Vec::new();
        for spec in depth.layers() {
            let trainable = spec.block.map_or(stem_trains, |b| trains[b]);
            let layer = ConvBn::load(
                params,
                (&spec.conv, &spec.bn),
                spec.shape,
                (spec.stride, ConvKind::Dense),
                Activation::Relu.when(spec.act),
                eps,
                (trainable, bn_freeze),
            )?;
            match spec.block {
                None => stem = Some(layer),
                Some(b) => {
                    if b == blocks.len() {
                        blocks.push(Residual {
                            main: Vec::new(),
                            downsample: None,
                        });
                    }
                    let block = blocks
                        .last_mut()
                        .ok_or_else(|| Error::Invalid("ResNet: a block out of order".into()))?;
                    if spec.downsample {
                        block.downsample = Some(layer);
                    } else {
                        block.main.push(layer);
                    }
                }
            }
        }
        let stem = stem.ok_or_else(|| Error::Invalid("ResNet has no stem".into()))?;
        let frozen = frozen_blocks(stem_trains, &trains);
        Ok(CnnBackbone::new(
            Box::new(Stem(stem)),
            blocks
                .into_iter()
                .map(|b| Box::new(b) as Box<dyn Block>)
                .collect(),
            (frozen, depth.prefix_floats(image_size, frozen)),
            depth.features(),
            Box::new(move |name: &str| place(depth, name)),
        ))
    }
}

/// Where a weight of a ResNet of `depth` sits: `layerS.R.…` in its block, `conv1`/`bn1` in
/// the stem; BatchNorm weights and biases take no weight decay (timm's rule: none on 1-D
/// weights).
pub fn place(depth: Depth, name: &str) -> Place {
    if let Some(head) = head_place(name) {
        return head;
    }
    let names = depth.block_names();
    let found = names.iter().position(|block| {
        name.strip_prefix(block.as_str())
            .is_some_and(|rest| rest.starts_with('.'))
    });
    let (layer, part) = match found {
        Some(i) => (names[i].clone(), Part::Block(i)),
        None => ("stem".to_string(), Part::Stem),
    };
    let one_dimensional = name.starts_with("bn")
        || name.contains(".bn")
        || name.contains(".downsample.1.")
        || name.ends_with(".bias");
    Place {
        layer,
        part,
        decays: !one_dimensional,
    }
}

/// torchvision's classifier `fc` is goodfit's head `classifier`.
const RENAMES: Renames = Renames {
    to_canonical: |weights| {
        weights
            .into_iter()
            .map(|(name, tensor)| match name.strip_prefix("fc.") {
                Some(field) => (format!("{HEAD_PREFIX}.{field}"), tensor),
                None => (name, tensor),
            })
            .collect::<HashMap<String, Tensor>>()
    },
    from_canonical: |name| match name {
        "classifier.weight" => "fc.weight".to_string(),
        "classifier.bias" => "fc.bias".to_string(),
        other => other.to_string(),
    },
};

/// The backbone of `DEPTHS[D]`, as the family builds it.
fn build<const D: usize>(
    params: &mut Params,
    config: &ModelConfig,
    _architecture: Architecture,
    spec: &ClassifierSpec,
) -> Result<Box<dyn Backbone>> {
    let config = config.image()?;
    Ok(Box::new(ResNet::load(
        params,
        DEPTHS[D],
        spec.train_layers,
        config.image_size,
        config.bn_eps,
        false,
    )?))
}

fn blocks<const D: usize>(_: &ModelConfig) -> usize {
    DEPTHS[D].block_names().len()
}

fn block_prefix<const D: usize>(index: usize) -> String {
    format!("{}.", DEPTHS[D].block_names()[index])
}

/// The family of `DEPTHS[D]`, whose `config.json` says `model_type: name`.
const fn family<const D: usize>(
    name: &'static str,
    model_types: &'static [&'static str],
) -> Family {
    Family {
        name,
        model_types,
        weight_prefix: "",
        classifier_name: "ResNet",
        has_segments: false,
        head_activation: HeadActivation::Relu,
        positions_after_padding: false,
        renames: Some(RENAMES),
        read_config: ModelConfig::read_image,
        blocks: blocks::<D>,
        build: build::<D>,
        preprocessor: Preprocessor::of_image_model,
        block_prefix: block_prefix::<D>,
    }
}

/// ResNet-18 (torchvision's and timm's names).
pub const RESNET18: Family = family::<0>("resnet18", &["resnet18"]);
/// ResNet-34.
pub const RESNET34: Family = family::<1>("resnet34", &["resnet34"]);
/// ResNet-50.
pub const RESNET50: Family = family::<2>("resnet50", &["resnet50"]);
/// ResNet-101.
pub const RESNET101: Family = family::<3>("resnet101", &["resnet101"]);
/// ResNet-152.
pub const RESNET152: Family = family::<4>("resnet152", &["resnet152"]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_follow_torchvision_s_state_dict() {
        let r18 = Depth::of("resnet18").unwrap();
        assert_eq!(r18.block_names().len(), 8);
        let layers = r18.layers();
        // conv1 + 8 blocks × 2 + 3 downsampling paths.
        assert_eq!(layers.len(), 20);
        assert_eq!(layers[5].conv, "layer2.0.conv1");
        assert_eq!((layers[5].shape, layers[5].stride), ([128, 64, 3, 3], 2));
        assert_eq!(layers[7].conv, "layer2.0.downsample.0");
        assert_eq!(layers[7].shape, [128, 64, 1, 1]);
        let r50 = Depth::of("resnet50").unwrap();
        assert_eq!(r50.features(), 2048);
        let layers = r50.layers();
        // conv1 + 16 blocks × 3 + 4 downsampling paths (layer1.0's at stride 1).
        assert_eq!(layers.len(), 53);
        assert_eq!(layers[4].conv, "layer1.0.downsample.0");
        assert_eq!((layers[4].shape, layers[4].stride), ([256, 64, 1, 1], 1));
        assert_eq!(layers[12].conv, "layer2.0.conv2");
        assert_eq!(layers[12].stride, 2, "v1.5: the stride on the 3×3");
        assert!(Depth::of("resnet19").is_err());
        // 224 → 56 after the stem, 28 after layer2.0, 7 after layer4: the prefix sizes.
        assert_eq!(r18.prefix_floats(224, 0), 64 * 56 * 56);
        assert_eq!(r18.prefix_floats(224, 3), 128 * 28 * 28);
        assert_eq!(r18.prefix_floats(224, 8), 512 * 7 * 7);
        assert_eq!(r50.prefix_floats(224, 1), 256 * 56 * 56);
    }

    #[test]
    fn weights_are_placed_by_block_and_the_head_is_fc_when_saved() {
        let r34 = Depth::of("resnet34").unwrap();
        let p = place(r34, "layer2.0.conv1.weight");
        assert_eq!(
            (p.layer.as_str(), &p.part, p.decays),
            ("layer2.0", &Part::Block(3), true)
        );
        assert!(!place(r34, "layer2.0.downsample.1.weight").decays);
        assert!(place(r34, "layer2.0.downsample.0.weight").decays);
        assert!(!place(r34, "layer4.2.bn2.bias").decays);
        assert_eq!(place(r34, "layer4.2.conv2.weight").part, Part::Block(15));
        assert_eq!(place(r34, "conv1.weight").part, Part::Stem);
        assert_eq!(place(r34, "bn1.running_var").part, Part::Stem);
        assert_eq!(place(r34, "classifier.weight").part, Part::Head);
        let renamed = (RENAMES.to_canonical)(HashMap::from([(
            "fc.bias".to_string(),
            Tensor::zeros(3, candle_core::DType::F32, &candle_core::Device::Cpu).unwrap(),
        )]));
        assert!(renamed.contains_key("classifier.bias"));
        assert_eq!((RENAMES.from_canonical)("classifier.weight"), "fc.weight");
        assert_eq!(
            (RENAMES.from_canonical)("layer1.0.conv1.weight"),
            "layer1.0.conv1.weight"
        );
        assert_eq!(block_prefix::<1>(3), "layer2.0.");
    }
}
