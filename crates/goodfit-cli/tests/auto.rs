//! `goodfit train --auto` end to end on a tiny random BERT: the search, its choice, its
//! refusals.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;
use common::{goodfit, json_lines, ok, setup};

/// The tiny model, the training file of [`setup`], and a validation and a test file.
fn setup_search(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let (model, train) = setup(dir);
    let val = dir.join("val.csv");
    std::fs::write(
        &val,
        "text,label\ngreat cake,pos\nawful cake,neg\ntasty bread,pos\nstale soup,neg\nlove this tea,pos\nbad coffee,neg\n",
    )
    .unwrap();
    let test = dir.join("test.csv");
    std::fs::write(
        &test,
        "text,label\nvery tasty cake,pos\nterrible bread,neg\ngood coffee,pos\nbland tea,neg\n",
    )
    .unwrap();
    (model, train, val, test)
}

/// `goodfit train --auto` on `train` with the tiny `model` into `out`, and `flags`.
fn search_args<'a>(
    model: &'a Path,
    train: &'a Path,
    out: &'a Path,
    flags: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "train",
        "--auto",
        "--model",
        model.to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(flags);
    args
}

#[test]
fn auto_keeps_the_best_trial_and_scores_the_test_file_for_it_and_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train, val, test) = setup_search(dir.path());
    let out = dir.path().join("run");
    let (out_s, test_s) = (out.to_str().unwrap(), test.to_str().unwrap());
    let output = ok(&search_args(
        &model,
        &train,
        &out,
        &[
            "--max-trials",
            "3",
            "--val",
            val.to_str().unwrap(),
            "--test",
            test_s,
            "--batch-size",
            "4",
            "--lr",
            "1e-3",
            "--head-lr",
            "3e-2",
        ],
    ));
    // Without --quiet: stderr is a pipe, so the bars are hidden and the lines must still
    // come through.
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stdout.contains("test f1_macro, scored once after the search: chosen"),
        "{stdout}"
    );
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("trial ")).count(),
        3,
        "a line per trial: {stderr}"
    );

    let trials = json_lines(&out.join("trials.jsonl"));
    assert_eq!(trials.len(), 3);
    let head_only = |t: &Value| {
        t["session"]
            .as_str()
            .unwrap()
            .starts_with("train_layers 0,")
    };
    assert!(head_only(&trials[0]), "the cheap trial first");
    assert!(!head_only(&trials[1]) && !head_only(&trials[2]));
    for (i, t) in trials.iter().enumerate() {
        assert_eq!(t["index"], i + 1);
        assert!(!t["why"].as_str().unwrap().is_empty());
        assert!(t["seconds"].as_f64().unwrap() >= 0.0);
        assert!(t["val"]["f1_macro"].is_f64() && !t["verdicts"].as_array().unwrap().is_empty());
        // No trial saw the test file.
        let run = out.join(t["run_dir"].as_str().unwrap());
        assert!(run.join("history.jsonl").is_file());
        assert!(!run.join("predictions_test.json").exists());
        let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
        assert!(!config.contains("test ="), "{config}");
    }
    let chosen: Vec<&Value> = trials.iter().filter(|t| t["chosen"] == true).collect();
    assert_eq!(chosen.len(), 1);
    let best = chosen[0]["val_metric"].as_f64().unwrap();
    assert!(trials
        .iter()
        .all(|t| t["val_metric"].as_f64().unwrap() <= best));

    // Both test scores are in auto.json, and eval of the run folder (the chosen model)
    // and of the first trial's folder gives them again.
    let auto: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("auto.json")).unwrap()).unwrap();
    assert_eq!(auto["chosen"]["index"], chosen[0]["index"]);
    assert_eq!(auto["first"]["index"], 1);
    for (who, run) in [
        ("chosen", out.clone()),
        (
            "first",
            out.join(auto["first"]["run_dir"].as_str().unwrap()),
        ),
    ] {
        let eval: Value = serde_json::from_slice(
            &ok(&[
                "eval",
                "--run",
                run.to_str().unwrap(),
                "--data",
                test_s,
                "--json",
            ])
            .stdout,
        )
        .unwrap();
        for key in ["f1_macro", "log_loss"] {
            let (a, b) = (
                eval[key].as_f64().unwrap(),
                auto[who]["test"][key].as_f64().unwrap(),
            );
            assert!((a - b).abs() < 1e-9, "{who} {key}: eval {a}, auto.json {b}");
        }
    }
    // The run folder predicts with an ensemble exactly when the search chose one, and its
    // members keep their models.
    let ensemble = out.join("ensemble.json");
    if auto["ensemble"]["chosen"] == true {
        let spec: Value =
            serde_json::from_str(&std::fs::read_to_string(&ensemble).unwrap()).unwrap();
        for member in spec["members"].as_array().unwrap() {
            assert!(out
                .join(member.as_str().unwrap())
                .join("goodfit.json")
                .is_file());
        }
        assert!(auto["chosen"]["members"].as_array().unwrap().len() >= 2);
    } else {
        assert!(!ensemble.exists());
    }
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["test"], auto["chosen"]["test"]);
    let config = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(config.contains("test = "), "{config}");

    let predictions = dir.path().join("pred.csv");
    ok(&[
        "predict",
        "--run",
        out_s,
        "--input",
        test_s,
        "--output",
        predictions.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(
        std::fs::read_to_string(&predictions)
            .unwrap()
            .lines()
            .count(),
        5
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        report.contains("<section id=\"auto\">") && report.contains("What was tried and why"),
        "the report shows the trials"
    );

    // An ensemble of two saved models predicts the average of their probabilities.
    let manual = dir.path().join("manual");
    std::fs::create_dir_all(&manual).unwrap();
    // Members live inside the ensemble's run folder.
    copy_dir(&out.join("model"), &manual.join("a/model"));
    copy_dir(
        &out.join(auto["first"]["run_dir"].as_str().unwrap())
            .join("model"),
        &manual.join("b/model"),
    );
    std::fs::write(
        manual.join("ensemble.json"),
        serde_json::json!({ "members": ["a/model", "b/model"] }).to_string(),
    )
    .unwrap();
    let members = [out.join("model"), manual.join("b/model")];
    let probabilities = |run: &Path| -> Vec<f64> {
        let file = dir.path().join("p.csv");
        ok(&[
            "predict",
            "--run",
            run.to_str().unwrap(),
            "--input",
            test_s,
            "--output",
            file.to_str().unwrap(),
            "--quiet",
        ]);
        let text = std::fs::read_to_string(&file).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let column = header.iter().position(|h| h.starts_with("prob_")).unwrap();
        lines
            .map(|l| l.split(',').nth(column).unwrap().parse().unwrap())
            .collect()
    };
    let (a, b, both) = (
        probabilities(&members[0]),
        probabilities(&members[1]),
        probabilities(&manual),
    );
    for i in 0..a.len() {
        assert!((both[i] - (a[i] + b[i]) / 2.0).abs() < 1e-9, "row {i}");
    }

    // `decide` on a run folder that predicts with an ensemble sets the ensemble's rule and
    // leaves the member in model/ as it was.
    let ens = dir.path().join("ens");
    copy_dir(&out, &ens);
    std::fs::write(
        ens.join("ensemble.json"),
        serde_json::json!({
            "members": ["model", format!("{}/model", auto["first"]["run_dir"].as_str().unwrap())]
        })
        .to_string(),
    )
    .unwrap();
    let model_info = std::fs::read_to_string(ens.join("model/goodfit.json")).unwrap();
    ok(&[
        "decide",
        ens.to_str().unwrap(),
        "--tune-threshold",
        "f1_macro",
    ]);
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(ens.join("ensemble.json")).unwrap()).unwrap();
    assert!(spec["decision"]["kind"].is_string(), "{spec}");
    assert_eq!(
        std::fs::read_to_string(ens.join("model/goodfit.json")).unwrap(),
        model_info
    );
}

/// Copies a folder and everything in it.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[test]
fn auto_flags_are_checked_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train, _, _) = setup_search(dir.path());
    let out = dir.path().join("run");
    let refused = |args: &[&str], message: &str| {
        let output = goodfit(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.lines().last().is_some_and(|l| l.contains(message)),
            "{args:?}: {stderr}"
        );
    };
    let mut without_auto = search_args(&model, &train, &out, &["--max-trials", "3"]);
    without_auto.retain(|a| *a != "--auto");
    refused(&without_auto, "--max-trials sets up a search: add --auto");
    for (flags, message) in [
        (
            &["--select-metric", "f1"][..],
            "--select-metric 'f1' is not loss or a metric",
        ),
        (
            &["--budget-minutes", "0"],
            "--budget-minutes must be a positive number",
        ),
        (&["--max-trials", "0"], "--max-trials must be at least 1"),
        (&["--cv-folds", "1"], "--cv-folds 1 is not cross-validation"),
        (&["--resume", "somewhere"], "cannot be combined with --auto"),
    ] {
        refused(&search_args(&model, &train, &out, flags), message);
    }
    assert!(!out.exists(), "nothing was written");
    // A test file the model could not be scored on stops the search before any trial.
    let bad_test = dir.path().join("bad_test.csv");
    std::fs::write(&bad_test, "text,label\ngood tea,pos\nodd tea,odd\n").unwrap();
    refused(
        &search_args(
            &model,
            &train,
            &out,
            &["--max-trials", "2", "--test", bad_test.to_str().unwrap()],
        ),
        "bad_test.csv:3: label 'odd' is not among the known labels",
    );
    assert!(!out.join("trials.jsonl").exists() && !out.join("model").exists());
}
