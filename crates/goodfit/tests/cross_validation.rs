//! `goodfit train --cv-folds K` without a search (`pipeline::cross_validate`) on a tiny
//! random BERT: every row predicted out of fold, the fold models kept and averaged, the
//! test file scored by that average, and bad settings refused before anything is written.

use std::path::Path;

use goodfit::pipeline::cross_validate;
use goodfit::train::predictor::Predictor;
use goodfit::train::Silent;
use goodfit::Error;
use serde_json::Value;

mod common;
use common::{config, setup};

fn read(run: &Path, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join(name)).unwrap()).unwrap()
}

#[test]
fn a_cross_validated_fine_tune_predicts_every_row_out_of_fold_and_tests_its_fold_average() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let out = dir.path().join("cv");
    let mut cfg = config(&model, &train_path, &val_path, &out);
    // The 16 training rows are the pool; the 4 rows of the other file are the test.
    cfg.val = None;
    cfg.test = Some(val_path.clone());
    cfg.epochs = 2;
    let result = cross_validate(&cfg, 4, &Silent).unwrap();

    let oof = read(&out, "predictions_val.json");
    assert_eq!(oof["y_true"].as_array().unwrap().len(), 16);
    let metrics = read(&out, "metrics.json");
    let section = &metrics["cross_validation"];
    assert_eq!(section["k"], 4);
    assert_eq!(section["folds_run"], serde_json::json!([1, 2, 3, 4]));
    assert_eq!(section["per_fold"].as_array().unwrap().len(), 4);
    for fold in 1..=4 {
        assert!(out.join(format!("folds/{fold}/model")).is_dir());
    }
    let ensemble = read(&out, "ensemble.json");
    assert_eq!(ensemble["members"].as_array().unwrap().len(), 4);

    // The test scores are the fold models' average's, as `predict` computes it.
    let predictor = Predictor::open(&out).unwrap();
    assert!(predictor.is_ensemble());
    let texts = ["great coffee", "awful cake", "tasty tea", "stale soup"].map(String::from);
    let proba = predictor
        .predict(&texts, Path::new(""), 8, &mut |_| {})
        .unwrap()
        .proba;
    let tested = read(&out, "predictions_test.json");
    for (row, p) in tested["proba"].as_array().unwrap().iter().zip(&proba) {
        for (a, b) in row.as_array().unwrap().iter().zip(p) {
            assert!(
                (a.as_f64().unwrap() - b).abs() < 1e-9,
                "{row} against {p:?}"
            );
        }
    }
    let (loss, test) = result.test.as_ref().expect("the test file was scored");
    assert_eq!(metrics["test"]["f1_macro"].as_f64(), test.get("f1_macro"));
    assert!((metrics["test_loss"].as_f64().unwrap() - loss).abs() < 1e-12);
    // The verdicts read the folds' averaged curves and the report is written.
    assert!(out.join("report.html").is_file());
    assert!(out.join("diagnosis.json").is_file());
    let config = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(config.contains("test = "), "{config}");
}

#[test]
fn a_head_only_cross_validation_refits_on_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let out = dir.path().join("cv-head");
    let mut cfg = config(&model, &train_path, &val_path, &out);
    cfg.val = None;
    cfg.train_layers = goodfit::model::TrainLayers::Top(0);
    let result = cross_validate(&cfg, 4, &Silent).unwrap();
    assert!(result.test.is_none());
    let metrics = read(&out, "metrics.json");
    assert!(metrics["cross_validation"]["model"]
        .as_str()
        .unwrap()
        .contains("all 16 pooled rows"));
    assert!(!out.join("ensemble.json").exists());
    assert!(!out.join("folds").exists());
}

#[test]
fn bad_settings_are_refused_before_the_run_folder_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let out = dir.path().join("cv");
    let mut cfg = config(&model, &train_path, &val_path, &out);
    cfg.val = None;
    let invalid = |result: Result<goodfit::pipeline::Reported, Error>, needle: &str| match result {
        Err(Error::Invalid(m)) => assert!(m.contains(needle), "{m}"),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("accepted"),
    };
    invalid(cross_validate(&cfg, 1, &Silent), "--cv-folds 1");
    // A test file with a label training never saw costs nothing.
    let test = dir.path().join("test.csv");
    std::fs::write(&test, "text,label\ngood tea,pos\nodd tea,odd\n").unwrap();
    cfg.test = Some(test);
    assert!(cross_validate(&cfg, 4, &Silent).is_err());
    assert!(!out.exists());
    // A finished run there is never replaced without --overwrite.
    cfg.test = None;
    std::fs::create_dir_all(out.join("model")).unwrap();
    std::fs::write(out.join("metrics.json"), "{}").unwrap();
    assert!(cross_validate(&cfg, 4, &Silent).is_err());
    assert_eq!(
        std::fs::read_to_string(out.join("metrics.json")).unwrap(),
        "{}"
    );
}
