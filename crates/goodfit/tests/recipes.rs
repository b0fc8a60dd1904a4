//! The few-sample recipes end to end on a tiny random BERT: LP-FT starts from the head it
//! is given, SWA keeps the average it says, R-Drop changes nothing without dropout, the
//! range test sweeps and suggests, mixup with λ pinned at 0 or 1 is plain training,
//! gradual unfreezing trains the head alone first, EDA's
//! copies join the training rows only, and bad settings are refused before anything runs.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use goodfit::auto::search::{run_auto, AutoConfig};
use goodfit::model::TrainLayers;
use goodfit::pipeline::train;
use goodfit::train::lr_find::{lr_find, LrFindSettings};
use goodfit::train::trainer::Session;
use goodfit::train::Silent;
use serde_json::Value;

mod common;
use common::{config, setup};

fn metrics(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap()
}

fn train_losses(out: &Path) -> Vec<f64> {
    std::fs::read_to_string(out.join("history.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["train_loss"]
                .as_f64()
                .unwrap()
        })
        .collect()
}

fn weights(path: &Path) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(path, &Device::Cpu).unwrap()
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

#[test]
fn lp_ft_starts_from_the_given_head() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let head_out = dir.path().join("head");
    let mut head = config(&model, &train_path, &val_path, &head_out);
    head.train_layers = TrainLayers::Top(0);
    head.epochs = 5;
    train(&head, false, &Silent).unwrap();

    // A fine-tune that barely moves (learning rates 1e-12) from the head-only run's head
    // scores the validation set as that run does; from a fresh head it does not.
    let still = |out: &str, init: bool| {
        let mut c = config(&model, &train_path, &val_path, &dir.path().join(out));
        c.train_layers = TrainLayers::Top(1);
        c.epochs = 1;
        c.lr = 1e-12;
        c.head_lr = 1e-12;
        c.dropout = Some(0.0);
        c.init_head = init.then(|| head_out.join("model"));
        train(&c, false, &Silent).unwrap();
        metrics(&dir.path().join(out))["val_loss"].as_f64().unwrap()
    };
    let expected = metrics(&head_out)["val_loss"].as_f64().unwrap();
    let warm = still("lpft", true);
    assert!(
        (warm - expected).abs() < 1e-5,
        "{warm} against the head run's {expected}"
    );
    let cold = still("fresh", false);
    assert!((cold - expected).abs() > 1e-3, "a fresh head: {cold}");

    // A head of another shape is refused, naming the flag.
    let mut other = config(&model, &train_path, &val_path, &dir.path().join("other"));
    other.train_layers = TrainLayers::Top(1);
    other.head_hidden = Some(8);
    other.init_head = Some(head_out.join("model"));
    let error = train(&other, false, &Silent).err().unwrap().to_string();
    assert!(
        error.contains("--init-head") && error.contains("hidden layer of 8"),
        "{error}"
    );
}

#[test]
fn swa_keeps_the_average_of_the_last_epochs() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let out = dir.path().join("swa");
    let mut c = config(&model, &train_path, &val_path, &out);
    c.train_layers = TrainLayers::Top(1);
    c.epochs = 3;
    c.swa_epochs = 2;
    train(&c, false, &Silent).unwrap();
    let checkpoint = weights(&out.join("checkpoint.safetensors"));
    let saved = weights(&out.join("model/model.safetensors"));
    let name = "encoder.layer.1.output.dense.weight";
    let averaged = &checkpoint[&format!("swa.{name}")];
    let last = &checkpoint[&format!("param.{name}")];
    let kept = &saved[&format!("bert.{name}")];
    assert!(
        max_abs_diff(kept, averaged) < 1e-7,
        "the model holds the average"
    );
    assert!(
        max_abs_diff(kept, last) > 1e-6,
        "not the last epoch's weights"
    );

    let mut bad = c.clone();
    bad.swa_epochs = 4;
    let error = train(&bad, false, &Silent).err().unwrap().to_string();
    assert!(error.contains("--swa-epochs 4"), "{error}");
}

#[test]
fn r_drop_is_plain_training_without_dropout_and_differs_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let run = |name: &str, rdrop: f64, dropout: f64| {
        let out = dir.path().join(name);
        let mut c = config(&model, &train_path, &val_path, &out);
        c.train_layers = TrainLayers::Top(1);
        c.epochs = 2;
        c.rdrop = rdrop;
        c.dropout = Some(dropout);
        train(&c, false, &Silent).unwrap();
        train_losses(&out)
    };
    let plain = run("plain", 0.0, 0.0);
    let rdrop = run("rdrop", 1.0, 0.0);
    for (a, b) in plain.iter().zip(&rdrop) {
        assert!((a - b).abs() < 1e-6, "{plain:?} against {rdrop:?}");
    }
    let dropout = run("dropout", 0.0, 0.3);
    let both = run("both", 1.0, 0.3);
    assert!(
        (dropout[1] - both[1]).abs() > 1e-6,
        "the consistency term changed training: {dropout:?} against {both:?}"
    );
}

#[test]
fn mixup_at_the_edges_is_plain_training_and_mixes_in_between() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let run = |name: &str, mixup: f64, layers: usize| {
        let out = dir.path().join(name);
        let mut c = config(&model, &train_path, &val_path, &out);
        c.train_layers = TrainLayers::Top(layers);
        c.epochs = 2;
        c.mixup = mixup;
        c.dropout = Some(0.0);
        train(&c, false, &Silent).unwrap();
        train_losses(&out)
    };
    for layers in [0, 1] {
        let plain = run(&format!("plain{layers}"), 0.0, layers);
        // Beta(α, α) with α near 0 puts λ at 0 or 1: each example, or its partner with the
        // partner's label; the batch's mean loss is the same sum either way.
        let edges = run(&format!("edges{layers}"), 1e-3, layers);
        for (a, b) in plain.iter().zip(&edges) {
            assert!((a - b).abs() < 1e-4, "{plain:?} against {edges:?}");
        }
        let mixed = run(&format!("mixed{layers}"), 1.0, layers);
        // The first epoch starts from a near-uniform head, where any mixing scores about
        // ln 2; the second shows it.
        assert!(
            (plain[1] - mixed[1]).abs() > 1e-3,
            "mixing changed the loss: {plain:?} against {mixed:?}"
        );
        assert_eq!(mixed, run(&format!("again{layers}"), 1.0, layers), "seeded");
    }
}

#[test]
fn gradual_unfreezing_keeps_the_encoder_still_in_the_first_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    // Each epoch's update ratio per layer, from history.jsonl: the encoder layer's and the
    // head's.
    let run = |name: &str, gradual: bool| -> Vec<(f64, f64)> {
        let out = dir.path().join(name);
        let mut c = config(&model, &train_path, &val_path, &out);
        c.train_layers = TrainLayers::Top(1);
        c.epochs = 2;
        c.patience = 0;
        c.gradual_unfreeze = gradual;
        train(&c, false, &Silent).unwrap();
        std::fs::read_to_string(out.join("history.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let record: Value = serde_json::from_str(l).unwrap();
                let ratios = record["update_ratio"].as_object().unwrap();
                let of = |part: &str| {
                    ratios
                        .iter()
                        .find(|(k, _)| k.contains(part))
                        .unwrap_or_else(|| panic!("{part} in {ratios:?}"))
                        .1
                        .as_f64()
                        .unwrap()
                };
                (of("layer.1"), of("classifier"))
            })
            .collect()
    };
    let gradual = run("gradual", true);
    assert_eq!(gradual[0].0, 0.0, "epoch 1 trains the head alone");
    assert!(gradual[0].1 > 0.0);
    assert!(gradual[1].0 > 0.0, "the top layer trains from epoch 2");
    let plain = run("plain", false);
    assert!(plain[0].0 > 0.0);
}

#[test]
fn eda_copies_join_the_training_rows_and_refuse_cross_validation() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let out = dir.path().join("eda");
    let mut c = config(&model, &train_path, &val_path, &out);
    c.eda_copies = 2;
    let session = Session::open(&c.check().unwrap(), &Silent).unwrap();
    let data = &session.data;
    let rows = data.train_rows;
    assert_eq!(data.train.len(), 3 * rows);
    for row in 0..rows {
        for copy in 0..2 {
            assert_eq!(
                data.train.targets[rows + 2 * row + copy],
                data.train.targets[row]
            );
        }
    }
    // The first copy of each text swaps words: the same tokens, another order (where the
    // text has two different words to swap).
    let tokens = |row: usize| match &data.train.encoded[row] {
        goodfit::model::Example::Tokens(ids) => ids.clone(),
        other => panic!("{other:?}"),
    };
    let mut original = tokens(0);
    let mut swapped = tokens(rows);
    original.sort_unstable();
    swapped.sort_unstable();
    assert_eq!(original, swapped);
    train(&c, false, &Silent).unwrap();
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("model/goodfit.json")).unwrap())
            .unwrap();
    let counted: u64 = saved["class_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(
        counted as usize, rows,
        "the prior counts the rows, not the copies"
    );

    let mut auto = c.clone();
    auto.out = dir.path().join("auto");
    let error = run_auto(&auto, &AutoConfig::default(), &Silent)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("--eda-copies"), "{error}");
    assert!(!auto.out.exists(), "nothing was written");
}

#[test]
fn the_range_test_sweeps_upwards_and_suggests_a_rate_only_where_the_loss_falls() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let mut c = config(&model, &train_path, &val_path, &dir.path().join("lr"));
    c.train_layers = TrainLayers::Top(1);
    c.head_lr = 1e-2;
    c.lr = 1e-3;
    c.dropout = Some(0.0);
    let session = Session::open(&c.check().unwrap(), &Silent).unwrap();
    let settings = LrFindSettings {
        start_lr: 1e-6,
        end_lr: 1.0,
        steps: 100,
    };
    let found = lr_find(&session, settings, &Silent).unwrap();
    assert_eq!(found.swept, "lr");
    assert!((found.head_ratio - 10.0).abs() < 1e-12);
    assert!(found.points.len() >= 20, "{}", found.stopped);
    assert!((found.points[0].lr - 1e-6).abs() < 1e-15);
    assert!(found.points.windows(2).all(|w| w[1].lr > w[0].lr));
    let lr = found
        .suggestion
        .unwrap_or_else(|| panic!("{}", found.advice));
    assert!((1e-6..=1.0).contains(&lr));
    assert!((found.suggested_head_lr.unwrap() - 10.0 * lr).abs() < 1e-12);
    assert!(found.advice.starts_with("--lr "), "{}", found.advice);

    // Rates too small to move anything: a flat curve, and no suggestion from it.
    let flat = LrFindSettings {
        start_lr: 1e-12,
        end_lr: 1e-11,
        steps: 30,
    };
    let found = lr_find(&session, flat, &Silent).unwrap();
    assert_eq!(found.suggestion, None);
    assert!(
        found.advice.contains("no rate stands out"),
        "{}",
        found.advice
    );

    let short = LrFindSettings {
        steps: 3,
        ..settings
    };
    let error = lr_find(&session, short, &Silent).unwrap_err().to_string();
    assert!(error.contains("--steps"), "{error}");
}

#[test]
fn recipe_settings_out_of_range_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let base = config(&model, &train_path, &val_path, &dir.path().join("x"));
    let mut decay = base.clone();
    decay.layer_lr_decay = 1.5;
    let mut rdrop = base.clone();
    rdrop.rdrop = -1.0;
    let mut reinit = base.clone();
    reinit.train_layers = TrainLayers::Top(1);
    reinit.reinit_layers = 2;
    let mut mixup = base.clone();
    mixup.mixup = f64::NAN;
    let mut eda = base.clone();
    eda.eda_alpha = 1.0;
    let cases = [
        (mixup, "--mixup"),
        (eda, "--eda-alpha"),
        (decay, "--layer-lr-decay"),
        (rdrop, "--rdrop"),
        (reinit, "--reinit-layers 2"),
    ];
    for (c, flag) in cases {
        let error = c.validate().unwrap_err().to_string();
        assert!(error.contains(flag), "{error}");
    }
    assert!(!dir.path().join("x").exists(), "nothing was written");
}
