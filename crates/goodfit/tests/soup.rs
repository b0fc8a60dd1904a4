//! `goodfit soup` end to end on a tiny random BERT: the greedy soup starts from the run best
//! on validation and never scores below it there, its saved model is the average of the
//! members it kept (and predicts what it recorded), and runs scored on other validation
//! rows, other classes or a folder holding a run are refused before anything is written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use goodfit::model::TrainLayers;
use goodfit::pipeline::train;
use goodfit::train::predictor::Predictor;
use goodfit::train::soup::soup_runs;
use goodfit::train::Silent;
use serde_json::Value;

mod common;
use common::{config, setup};

fn weights(path: &Path) -> HashMap<String, Tensor> {
    candle_core::safetensors::load(path, &Device::Cpu).unwrap()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Fine-tunes of the tiny model on the same data and validation file, one per seed.
fn runs(dir: &Path, seeds: &[u64]) -> Vec<PathBuf> {
    let (model, train_path, val_path) = setup(dir);
    seeds
        .iter()
        .map(|&seed| {
            let out = dir.join(format!("run{seed}"));
            let mut c = config(&model, &train_path, &val_path, &out);
            c.train_layers = TrainLayers::Top(1);
            c.epochs = 3;
            c.seed = seed;
            train(&c, false, &Silent).unwrap();
            out
        })
        .collect()
}

#[test]
fn the_greedy_soup_starts_from_the_best_run_and_saves_the_average_it_kept() {
    let dir = tempfile::tempdir().unwrap();
    let members = runs(dir.path(), &[1, 2, 3]);
    let out = dir.path().join("soup");
    let soup = soup_runs(&members, &out, false, &Silent).unwrap();

    // Best alone first; the soup never scores below it on validation.
    assert_eq!(soup.steps.len(), 3);
    let best = soup
        .steps
        .iter()
        .map(|s| s.alone)
        .fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(soup.steps[0].alone, best);
    assert!(soup.steps[0].kept && soup.val_score >= best);
    assert_eq!(soup.members[0], soup.steps[0].run);
    for step in &soup.steps[1..] {
        assert_eq!(step.kept, soup.members.contains(&step.run));
    }

    // The saved weights are the mean of the kept members' weights, tensor by tensor.
    let saved = weights(&out.join("model/model.safetensors"));
    let kept: Vec<HashMap<String, Tensor>> = soup
        .members
        .iter()
        .map(|m| weights(&m.join("model/model.safetensors")))
        .collect();
    assert_eq!(saved.len(), kept[0].len());
    for (name, tensor) in &saved {
        let mut sum = kept[0][name].clone();
        for k in &kept[1..] {
            sum = (sum + &k[name]).unwrap();
        }
        let mean = (sum / kept.len() as f64).unwrap();
        let diff: f32 = (tensor - mean)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar()
            .unwrap();
        assert!(diff < 1e-6, "{name}: {diff}");
    }

    // The saved soup predicts the validation probabilities it recorded.
    let texts: Vec<String> = ["great coffee", "awful cake", "tasty tea", "stale soup"]
        .iter()
        .map(|t| t.to_string())
        .collect();
    let predicted = Predictor::open(&out)
        .unwrap()
        .predict(&texts, std::path::Path::new(""), 8, &mut |_| {})
        .unwrap();
    let recorded = json(&out.join("predictions_val.json"));
    for (row, p) in predicted.proba.iter().enumerate() {
        for (k, value) in p.iter().enumerate() {
            let r = recorded["proba"][row][k].as_f64().unwrap();
            assert!((value - r).abs() < 1e-5, "row {row}: {value} vs {r}");
        }
    }
    let record = json(&out.join("soup.json"));
    assert_eq!(
        record["members"].as_array().unwrap().len(),
        soup.members.len()
    );
    assert_eq!(record["val_rows"], 4);
}

#[test]
fn runs_that_cannot_be_souped_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let members = runs(dir.path(), &[1, 2]);
    let out = dir.path().join("soup");

    // One run scored on another split (its own config says so).
    let (model, train_path, _) = setup(&dir.path().join("other"));
    let split = dir.path().join("split");
    let mut c = config(&model, &train_path, &train_path, &split);
    c.val = None;
    c.val_fraction = 0.25;
    c.train_layers = TrainLayers::Top(1);
    c.epochs = 1;
    train(&c, false, &Silent).unwrap();
    let error = soup_runs(&[members[0].clone(), split], &out, false, &Silent)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("config.toml") && error.contains("'train'"),
        "{error}"
    );
    assert!(!out.exists(), "nothing written");

    // A folder holding a run is kept unless --overwrite.
    let error = soup_runs(&members, &members[1], false, &Silent)
        .unwrap_err()
        .to_string();
    assert!(error.contains("--overwrite"), "{error}");
    let error = soup_runs(&members[..1], &out, false, &Silent)
        .unwrap_err()
        .to_string();
    assert!(error.contains("at least two"), "{error}");

    // A changed validation file no longer gives the rows the runs were scored on.
    let val = dir.path().join("val.csv");
    std::fs::write(
        &val,
        "text,label\ngreat coffee,neg\nawful cake,neg\ntasty tea,pos\nstale soup,neg\n",
    )
    .unwrap();
    let error = soup_runs(&members, &out, false, &Silent)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("y_true") && error.contains("changed since"),
        "{error}"
    );
    assert!(!out.exists(), "nothing written");
}
