//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use goodfit::model::tiny::write_tiny_bert;
use goodfit::model::TrainLayers;
use goodfit::train::TrainConfig;

/// The test fixture `name`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The real all-MiniLM-L6-v2 folder (`scripts/fetch-model.sh` puts it in `models/`), or
/// `GOODFIT_TEST_MODEL`. When it is absent the real-model tests are skipped with a note —
/// unless `GOODFIT_REQUIRE_MODEL=1` (set by `make test` and CI), where absence is a failure.
pub fn real_model() -> Option<PathBuf> {
    required_model(
        "GOODFIT_TEST_MODEL",
        "all-MiniLM-L6-v2",
        "scripts/fetch-model.sh",
    )
}

/// The real EfficientNet-Lite0 folder (`scripts/fetch-efficientnet.sh` puts it in
/// `models/`), or `GOODFIT_TEST_IMAGE_MODEL`; skipped or required as [`real_model`] is.
pub fn real_image_model() -> Option<PathBuf> {
    required_model(
        "GOODFIT_TEST_IMAGE_MODEL",
        "efficientnet-lite0",
        "scripts/fetch-efficientnet.sh",
    )
}

fn required_model(variable: &str, name: &str, script: &str) -> Option<PathBuf> {
    let dir = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../models")
                .join(name)
        });
    if dir.join("model.safetensors").is_file() {
        return Some(dir);
    }
    if std::env::var("GOODFIT_REQUIRE_MODEL").is_ok_and(|v| v == "1") {
        panic!(
            "the real model is required but missing at {}: run {script}",
            dir.display()
        );
    }
    eprintln!("skipped: no model at {} (run {script})", dir.display());
    None
}

pub const POSITIVE: [&str; 8] = [
    "great tea",
    "lovely cake !",
    "good fresh bread",
    "tasty soup , buy again",
    "love this coffee",
    "very good tea",
    "the cake was great",
    "fresh and tasty",
];
pub const NEGATIVE: [&str; 8] = [
    "awful tea",
    "stale bread",
    "bland soup , never again",
    "terrible coffee",
    "hate this cake",
    "not good",
    "the bread was bad",
    "bad and bland",
];

/// A model folder and a 16-row training file (8 per class), plus a validation file.
pub fn setup(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let model = dir.join("tiny");
    write_tiny_bert(&model, 1).unwrap();
    let mut train = String::from("text,label\n");
    for (p, n) in POSITIVE.iter().zip(NEGATIVE) {
        train += &format!("\"{p}\",pos\n\"{n}\",neg\n");
    }
    let train_path = dir.join("train.csv");
    std::fs::write(&train_path, train).unwrap();
    let val_path = dir.join("val.csv");
    std::fs::write(
        &val_path,
        "text,label\ngreat coffee,pos\nawful cake,neg\ntasty tea,pos\nstale soup,neg\n",
    )
    .unwrap();
    (model, train_path, val_path)
}

pub fn config(model: &Path, train: &Path, val: &Path, out: &Path) -> TrainConfig {
    TrainConfig {
        model: model.to_string_lossy().into_owned(),
        train: train.to_path_buf(),
        val: Some(val.to_path_buf()),
        out: out.to_path_buf(),
        epochs: 4,
        batch_size: 4,
        lr: 1e-3,
        head_lr: 1e-2,
        train_layers: TrainLayers::All,
        warmup: "0".parse().unwrap(),
        patience: 0,
        quiet: true,
        ..TrainConfig::default()
    }
}
