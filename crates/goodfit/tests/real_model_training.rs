//! A short real fine-tune of all-MiniLM-L6-v2 on 300 fine_foods reviews: the top layer,
//! pooling and head learn (a small budget, so CI stays fast; the README's demo is the full run).

mod common;

use std::path::Path;

use goodfit::model::TrainLayers;
use goodfit::train::{train, Silent, TrainConfig};
use serde_json::Value;

#[test]
fn minilm_learns_fine_food_reviews() {
    let Some(model) = common::real_model() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let reviews =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fine_foods/train.jsonl");
    let head: String = std::fs::read_to_string(reviews)
        .unwrap()
        .lines()
        .take(300)
        .map(|l| format!("{l}\n"))
        .collect();
    let train_path = dir.path().join("train.jsonl");
    std::fs::write(&train_path, head).unwrap();
    let config = TrainConfig {
        model: model.to_string_lossy().into_owned(),
        train: train_path,
        out: dir.path().join("run"),
        epochs: 3,
        train_layers: TrainLayers::Top(1),
        max_len: 64,
        lr: 3e-4,
        head_lr: 5e-3,
        quiet: true,
        ..TrainConfig::default()
    };
    let result = train(&config, false, &Silent).unwrap();
    let history: Vec<Value> = std::fs::read_to_string(dir.path().join("run/history.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let first = history[0]["train_loss"].as_f64().unwrap();
    let last = history[2]["train_loss"].as_f64().unwrap();
    assert!(
        last < first - 0.1,
        "training loss fell from {first} to {last}"
    );
    let train_f1 = history[2]["train_f1_macro"].as_f64().unwrap();
    assert!(train_f1 > 0.7, "training macro-F1 {train_f1}");
    // Below the prior baseline: always predicting the class shares (65/35) costs 0.647.
    assert!(
        result.val_loss < 0.647,
        "validation loss {}",
        result.val_loss
    );
}
