//! Image classification end to end on a randomly initialised EfficientNet-Lite0 at 64
//! pixels and a folder of small coloured pictures: `train` on an image folder (the top
//! blocks train, BatchNorm statistics included), `eval` of the saved model giving the
//! scores `train` reported, `predict` from a CSV of image paths, and clear errors for a
//! missing or unreadable picture.

#[path = "../../goodfit/tests/browser/mod.rs"]
mod browser;
mod common;

use std::path::Path;

use common::{ok, refused};
use serde_json::Value;

/// Pictures of three classes in `dir/<class>/`: red, green or blue squares of 20×20 with
/// noise, `per_class` each.
fn pictures(dir: &Path, per_class: usize, seed: u32) {
    for (c, class) in ["blue", "green", "red"].iter().enumerate() {
        let folder = dir.join(class);
        std::fs::create_dir_all(&folder).unwrap();
        for i in 0..per_class {
            let picture = image::RgbImage::from_fn(20, 20, |x, y| {
                let noise = ((x * 7 + y * 13 + i as u32 * 31 + seed) % 60) as u8;
                let mut pixel = [noise; 3];
                pixel[2 - c] = 200 + noise / 2;
                image::Rgb(pixel)
            });
            picture.save(folder.join(format!("{i}.png"))).unwrap();
        }
    }
}

#[test]
fn an_image_folder_trains_evaluates_and_predicts() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("effnet");
    goodfit::model::tiny::write_random_efficientnet(&model, 64).unwrap();
    let (train, test) = (dir.path().join("train"), dir.path().join("test"));
    pictures(&train, 8, 0);
    pictures(&test, 4, 5);
    let out = dir.path().join("run");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (model_s, train_s, test_s, out_s) = (s(&model), s(&train), s(&test), s(&out));
    let stdout = ok(&[
        "train",
        "--model",
        &model_s,
        "--train",
        &train_s,
        "--test",
        &test_s,
        "--out",
        &out_s,
        "--text-col",
        "image",
        "--train-layers",
        "2",
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--val-fraction",
        "0.25",
    ])
    .stdout;
    let stdout = String::from_utf8_lossy(&stdout);
    assert!(stdout.contains("diagnosis:"), "{stdout}");
    assert!(out.join("report.html").is_file());

    // The saved model: the classes, and BatchNorm's running statistics with the weights.
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("model/config.json")).unwrap())
            .unwrap();
    assert_eq!(config["num_classes"], 3);
    assert_eq!(config["id2label"]["2"], "red");
    let weights = std::fs::read(out.join("model/model.safetensors")).unwrap();
    // A safetensors file starts with its header's length (8 bytes) and the JSON header.
    let length = u64::from_le_bytes(weights[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&weights[8..8 + length]).unwrap();
    for name in [
        "bn2.running_var",
        "blocks.6.0.bn3.running_mean",
        "classifier.weight",
    ] {
        assert!(header.get(name).is_some(), "{name} is saved");
    }

    // The report's pictures: training examples per class and the most confidently wrong,
    // inlined as PNGs (nothing outside the run folder is read to draw them).
    let gallery: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("gallery.json")).unwrap()).unwrap();
    assert_eq!(
        gallery["examples"].as_array().unwrap().len(),
        12,
        "4 per class"
    );
    let sets: Vec<&str> = gallery["wrong"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w[0].as_str().unwrap())
        .collect();
    assert_eq!(sets, ["validation", "test"]);
    let uri = gallery["examples"][0]["image"].as_str().unwrap();
    let png = uri.strip_prefix("data:image/png;base64,").unwrap();
    let bytes = base64_decode(png);
    let thumbnail = image::load_from_memory(&bytes).unwrap();
    assert_eq!(
        (thumbnail.width(), thumbnail.height()),
        (20, 20),
        "no larger than the picture"
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("<section id=\"pictures\"") && report.contains("Training pictures"));
    assert!(report.matches("<img src=\"data:image/png;base64,").count() >= 12);

    // `eval` of the saved model scores the test folder as `train` did.
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let eval: Value =
        serde_json::from_slice(&ok(&["eval", "--run", &out_s, "--data", &test_s, "--json"]).stdout)
            .unwrap();
    let (a, b) = (
        eval["f1_macro"].as_f64().unwrap(),
        metrics["test"]["f1_macro"].as_f64().unwrap(),
    );
    assert!((a - b).abs() < 1e-9, "eval {a} vs train {b}");

    // `predict` from a CSV of paths relative to it.
    let csv = dir.path().join("new.csv");
    std::fs::write(&csv, "image\ntest/red/0.png\ntest/blue/1.png\n").unwrap();
    let predictions = dir.path().join("predictions.csv");
    ok(&[
        "predict",
        "--run",
        &out_s,
        "--input",
        &s(&csv),
        "--output",
        &s(&predictions),
    ]);
    let written = std::fs::read_to_string(&predictions).unwrap();
    assert_eq!(written.lines().count(), 3, "{written}");
    assert!(
        written.starts_with("image,pred,prob_blue,prob_green,prob_red"),
        "{written}"
    );

    // `predict` on a folder: every picture under it.
    ok(&[
        "predict",
        "--run",
        &out_s,
        "--input",
        &test_s,
        "--output",
        &s(&predictions),
    ]);
    let written = std::fs::read_to_string(&predictions).unwrap();
    assert_eq!(written.lines().count(), 13, "{written}");
    assert!(written.contains("\nblue/0.png,"), "{written}");

    // The audit of the pictures: its page shows the findings' thumbnails, every one drawn.
    let audit_dir = dir.path().join("audit");
    ok(&[
        "audit",
        "--model",
        &model_s,
        "--data",
        &train_s,
        "--test",
        &test_s,
        "--out",
        &s(&audit_dir),
        "--text-col",
        "image",
        "--folds",
        "2",
        "--repeats",
        "1",
        "--duplicate-threshold",
        "0.9",
    ]);
    let page = audit_dir.join("audit.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        html.contains("<img src=\"data:image/png;base64,"),
        "no thumbnail in the audit"
    );
    browser::page_draws(&page);

    // A missing picture and a file that is not a picture are errors naming them.
    std::fs::write(&csv, "image\ntest/red/0.png\ntest/red/missing.png\n").unwrap();
    let error = refused(&[
        "predict",
        "--run",
        &out_s,
        "--input",
        &s(&csv),
        "--output",
        &s(&predictions),
    ]);
    assert!(error.contains("missing.png"), "{error}");
    std::fs::write(test.join("red/broken.png"), "not a picture").unwrap();
    let error = refused(&["eval", "--run", &out_s, "--data", &test_s]);
    assert!(
        error.contains("broken.png") && error.contains("PNG or JPEG"),
        "{error}"
    );
}

#[test]
fn augmentation_trains_images_and_is_refused_for_text() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("effnet");
    goodfit::model::tiny::write_random_efficientnet(&model, 64).unwrap();
    let train = dir.path().join("train");
    pictures(&train, 6, 1);
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = dir.path().join("run");
    let augment = [
        "--augment-crop",
        "0.5",
        "--augment-flip",
        "true",
        "--augment-rotate",
        "10",
        "--augment-jitter",
        "0.2",
        "--mixup",
        "0.4",
        "--cutmix",
        "1.0",
        "--swa-epochs",
        "1",
    ];
    let mut args = vec![
        "train".to_string(),
        "--model".into(),
        s(&model),
        "--train".into(),
        s(&train),
        "--out".into(),
        s(&out),
        "--text-col".into(),
        "image".into(),
        "--train-layers".into(),
        "1".into(),
        "--epochs".into(),
        "1".into(),
        "--batch-size".into(),
        "6".into(),
    ];
    args.extend(augment.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let stderr = String::from_utf8_lossy(&ok(&args).stderr).into_owned();
    assert!(stderr.contains("augmentation:"), "{stderr}");
    assert!(stderr.contains("mixup/cutmix:"), "{stderr}");
    assert!(
        stderr.contains("recomputed the BatchNorm statistics of the averaged weights over the 15"),
        "{stderr}"
    );
    let config = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(config.contains("augment_flip = true"), "{config}");
    assert!(config.contains("cutmix = 1.0"), "{config}");

    // The report shows the first picture of each class as it is and in 5 draws.
    let gallery: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("gallery.json")).unwrap()).unwrap();
    let augmented = gallery["augmented"].as_array().unwrap();
    assert_eq!(augmented.len(), 3 * 6, "3 classes, as is and 5 draws");
    assert_eq!(augmented[1]["label"], "blue, draw 1");
    assert_ne!(augmented[1]["image"], augmented[2]["image"], "draws differ");
    let report = out.join("report.html");
    assert!(std::fs::read_to_string(&report)
        .unwrap()
        .contains("Augmented training pictures"));
    browser::page_draws(&report);

    // A text model refuses them, naming the flags.
    let (text_model, reviews) = common::setup(dir.path());
    let error = refused(&[
        "train",
        "--model",
        &s(&text_model),
        "--train",
        &s(&reviews),
        "--out",
        &s(&dir.path().join("text-run")),
        "--augment-flip",
        "true",
    ]);
    assert!(
        error.contains("--augment-flip") && error.contains("text model"),
        "{error}"
    );
    let error = refused(&[
        "train",
        "--model",
        &s(&text_model),
        "--train",
        &s(&reviews),
        "--out",
        &s(&dir.path().join("text-run")),
        "--cutmix",
        "1",
    ]);
    assert!(
        error.contains("--cutmix") && error.contains("text model"),
        "{error}"
    );
    let error = refused(&[
        "train",
        "--model",
        &s(&model),
        "--train",
        &s(&train),
        "--out",
        &s(&out),
        "--overwrite",
        "--augment-rotate",
        "400",
    ]);
    assert!(
        error.contains("--augment-rotate must be between 0 and 180"),
        "{error}"
    );
}

/// Standard base64 (RFC 4648, with padding), decoded: enough to check a data URI.
fn base64_decode(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let value = |c: u8| alphabet.iter().position(|&a| a == c).unwrap() as u32;
    let clean: Vec<u8> = text.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c) << (18 - 6 * i);
        }
        out.extend(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// A torchvision ResNet-18 state dict with small random weights (running variances 1), as
/// `safetensors.torch.save_file(model.state_dict(), path)` writes it; `conv1` may be given
/// another shape.
fn resnet18_state_dict(path: &Path, conv1: &[usize]) {
    use candle_core::{Device, Tensor};
    use goodfit::model::resnet::Depth;
    let depth = Depth::of("resnet18").unwrap();
    let mut entries = goodfit::model::resnet_import::backbone_entries(depth);
    entries.push(("fc.weight".into(), vec![1000, 512]));
    entries.push(("fc.bias".into(), vec![1000]));
    let mut tensors = std::collections::HashMap::new();
    for (name, mut shape) in entries {
        if name == "conv1.weight" {
            shape = conv1.to_vec();
        }
        let tensor = if name.ends_with("running_var") {
            Tensor::ones(shape, candle_core::DType::F32, &Device::Cpu).unwrap()
        } else {
            Tensor::randn(0f32, 0.05, shape, &Device::Cpu).unwrap()
        };
        tensors.insert(name, tensor);
    }
    tensors.insert(
        "bn1.num_batches_tracked".into(),
        Tensor::new(0i64, &Device::Cpu).unwrap(),
    );
    candle_core::safetensors::save(&tensors, path).unwrap();
}

#[test]
fn a_torchvision_resnet_imports_trains_every_layer_and_saves_under_its_own_names() {
    let dir = tempfile::tempdir().unwrap();
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let (weights, model) = (dir.path().join("r18.safetensors"), dir.path().join("r18"));
    resnet18_state_dict(&weights, &[64, 3, 7, 7]);

    // The wrong depth and a wrong shape are refused, naming the weight; nothing is written.
    let error = refused(&[
        "import-weights",
        "--from",
        "resnet34",
        "--pth",
        &s(&weights),
        "--out",
        &s(&model),
    ]);
    assert!(error.contains("lacks 'layer1.2.conv1.weight'"), "{error}");
    let bad = dir.path().join("bad.safetensors");
    resnet18_state_dict(&bad, &[64, 3, 3, 3]);
    let error = refused(&[
        "import-weights",
        "--from",
        "resnet18",
        "--pth",
        &s(&bad),
        "--out",
        &s(&model),
    ]);
    assert!(
        error.contains("'conv1.weight' has shape [64, 3, 3, 3]"),
        "{error}"
    );
    assert!(!model.exists());

    ok(&[
        "import-weights",
        "--from",
        "resnet18",
        "--pth",
        &s(&weights),
        "--out",
        &s(&model),
    ]);
    let config_path = model.join("config.json");
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    assert_eq!(
        (
            config["model_type"].as_str(),
            config["num_classes"].as_u64()
        ),
        (Some("resnet18"), Some(1000))
    );
    // 64-pixel inputs keep the test fast.
    config["image_size"] = 64.into();
    std::fs::write(&config_path, config.to_string()).unwrap();

    let (train, test) = (dir.path().join("train"), dir.path().join("test"));
    pictures(&train, 8, 0);
    pictures(&test, 4, 5);
    let out = dir.path().join("run");
    let out_s = s(&out);
    let stdout = ok(&[
        "train",
        "--model",
        &s(&model),
        "--train",
        &s(&train),
        "--test",
        &s(&test),
        "--out",
        &out_s,
        "--train-layers",
        "all",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--val-fraction",
        "0.25",
    ])
    .stdout;
    assert!(String::from_utf8_lossy(&stdout).contains("diagnosis:"));

    // Saved under torchvision's names: the head is `fc` with 3 classes, the stem trained.
    let saved = std::fs::read(out.join("model/model.safetensors")).unwrap();
    let length = u64::from_le_bytes(saved[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&saved[8..8 + length]).unwrap();
    assert_eq!(header["fc.weight"]["shape"], serde_json::json!([3, 512]));
    assert!(header.get("classifier.weight").is_none());
    assert!(header.get("layer4.1.bn2.running_var").is_some());
    let trained = candle_core::safetensors::load(
        out.join("model/model.safetensors"),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let before = candle_core::safetensors::load(&weights, &candle_core::Device::Cpu).unwrap();
    let moved = (&trained["conv1.weight"] - &before["conv1.weight"])
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(moved > 0.0, "every layer trains, the stem included");

    let predictions = dir.path().join("predictions.csv");
    ok(&[
        "predict",
        "--run",
        &out_s,
        "--input",
        &s(&test),
        "--output",
        &s(&predictions),
    ]);
    let written = std::fs::read_to_string(&predictions).unwrap();
    assert_eq!(written.lines().count(), 13, "{written}");
}
