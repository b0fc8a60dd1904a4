//! `goodfit train`, `predict`, `eval` and `soup` end to end on a tiny random BERT.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;
use common::{goodfit, ok, refused, setup};

#[test]
fn train_then_predict_then_eval() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train) = setup(dir.path());
    let out = dir.path().join("run");
    let (model_s, train_s, out_s) = (
        model.to_str().unwrap(),
        train.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let output = ok(&[
        "train",
        "--model",
        model_s,
        "--train",
        train_s,
        "--val",
        train_s,
        "--test",
        train_s,
        "--out",
        out_s,
        "--epochs",
        "3",
        "--batch-size",
        "4",
        "--train-layers",
        "all",
        "--pooling",
        "pooler",
        "--quiet",
    ]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("run folder:") && stdout.contains("test (loss"),
        "{stdout}"
    );

    let history = json_lines(&out.join("history.jsonl"));
    assert_eq!(history.len(), 3);
    for key in [
        "epoch",
        "step",
        "lr",
        "train_loss",
        "val_loss",
        "train_f1_macro",
        "val_f1_macro",
        "val_roc_auc",
        "seconds",
    ] {
        assert!(history[0].get(key).is_some(), "history has {key}");
    }
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert!(metrics["val"]["f1_macro"].is_f64() && metrics["test"]["confusion_matrix"].is_array());
    let config = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        config.contains("train_layers = \"all\"") && config.contains("pooling = \"pooler\""),
        "{config}"
    );
    assert!(
        stdout.contains("diagnosis:") && out.join("report.html").is_file(),
        "{stdout}"
    );
    let diagnosis: Value =
        serde_json::from_slice(&ok(&["diagnose", out_s, "--json"]).stdout).unwrap();
    assert!(!diagnosis["verdicts"].as_array().unwrap().is_empty());
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("diagnosis.json")).unwrap())
            .unwrap();
    assert_eq!(saved, diagnosis);
    let hf_config: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("model/config.json")).unwrap())
            .unwrap();
    assert_eq!(
        hf_config["architectures"][0],
        "BertForSequenceClassification"
    );
    assert_eq!(hf_config["id2label"]["0"], "neg");

    // predict writes the input columns plus pred and prob_<label>.
    let input = dir.path().join("new.csv");
    std::fs::write(&input, "id,text\n1,great cake\n2,awful soup\n").unwrap();
    let predictions = dir.path().join("pred.csv");
    ok(&[
        "predict",
        "--run",
        out_s,
        "--input",
        input.to_str().unwrap(),
        "--output",
        predictions.to_str().unwrap(),
        "--quiet",
    ]);
    let written = std::fs::read_to_string(&predictions).unwrap();
    let mut lines = written.lines();
    assert_eq!(lines.next(), Some("id,text,pred,prob_neg,prob_pos"));
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (p_neg, p_pos): (f64, f64) = (first[3].parse().unwrap(), first[4].parse().unwrap());
    assert!((p_neg + p_pos - 1.0).abs() < 1e-9);

    // eval agrees with the run's own test metrics (same file, same weights).
    let output = ok(&["eval", "--run", out_s, "--data", train_s, "--json"]);
    let eval: Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in ["accuracy", "f1_macro", "log_loss"] {
        let (a, b) = (
            eval[key].as_f64().unwrap(),
            metrics["test"][key].as_f64().unwrap(),
        );
        assert!((a - b).abs() < 1e-6, "{key}: eval {a}, train's test {b}");
    }
}

#[test]
fn config_file_and_flags_combine_and_resume_needs_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train) = setup(dir.path());
    let out = dir.path().join("run");
    let config = dir.path().join("c.toml");
    std::fs::write(
        &config,
        format!(
            "model = {:?}\ntrain = {:?}\nepochs = 1\nbatch_size = 4\nval_fraction = 0.5\n",
            model.to_str().unwrap(),
            train.to_str().unwrap()
        ),
    )
    .unwrap();
    ok(&[
        "train",
        "--config",
        config.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--seed",
        "9",
        "--quiet",
    ]);
    let written = std::fs::read_to_string(out.join("config.toml")).unwrap();
    assert!(
        written.contains("seed = 9")
            && written.contains("epochs = 1")
            && written.contains("val_fraction = 0.5"),
        "{written}"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "epochs = 1\nlearning_rate = 3\n").unwrap();
    let output = goodfit(&["train", "--config", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.toml:2, field 'learning_rate': unknown field `learning_rate`"),
        "{stderr}"
    );

    let output = goodfit(&[
        "train",
        "--resume",
        dir.path().join("nothing").to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));

    let output = goodfit(&[
        "train",
        "--model",
        model.to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--pooling",
        "avg",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("avg") && stderr.lines().count() == 1,
        "{stderr}"
    );
}

#[test]
fn a_failed_run_leaves_no_model_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train) = setup(dir.path());
    let out = dir.path().join("run");
    let bad_val = dir.path().join("val.csv");
    std::fs::write(&bad_val, "text,label\ngood,pos\nodd,unknown\n").unwrap();
    let output = goodfit(&[
        "train",
        "--model",
        model.to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--val",
        bad_val.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("val.csv:3: label 'unknown' is not among the known labels (neg, pos)"),
        "{stderr}"
    );
    assert!(!out.join("model").exists());
    let truncated = dir.path().join("broken");
    std::fs::create_dir(&truncated).unwrap();
    for file in ["config.json", "vocab.txt"] {
        std::fs::copy(model.join(file), truncated.join(file)).unwrap();
    }
    let weights = std::fs::read(model.join("model.safetensors")).unwrap();
    std::fs::write(
        truncated.join("model.safetensors"),
        &weights[..weights.len() / 2],
    )
    .unwrap();
    let output = goodfit(&[
        "train",
        "--model",
        truncated.to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read the weights"));
    assert!(!out.join("model").exists());
}

#[test]
fn learning_curve_writes_its_table_json_and_chart() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train) = setup(dir.path());
    let out = dir.path().join("curve");
    let output = ok(&[
        "learning-curve",
        "--model",
        model.to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--val",
        train.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--train-layers",
        "0",
        "--epochs",
        "2",
        "--fractions",
        "0.5,1",
        "--quiet",
    ]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("100%") && stdout.contains("val f1_macro"),
        "{stdout}"
    );
    let curve: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("learning_curve.json")).unwrap())
            .unwrap();
    assert_eq!(curve["points"].as_array().unwrap().len(), 2);
    assert!(std::fs::read_to_string(out.join("learning_curve.svg"))
        .unwrap()
        .contains("<svg"));
}

#[test]
fn imbalanced_data_trains_with_the_default_remedy_unless_a_loss_is_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = setup(dir.path());
    // 16 training rows, 13 : 3.
    let mut data = String::new();
    for i in 0..13 {
        data += &format!("{{\"text\": \"great tea {i}\", \"label\": \"pos\"}}\n");
    }
    for text in ["awful tea", "stale bread", "bland soup"] {
        data += &format!("{{\"text\": \"{text}\", \"label\": \"neg\"}}\n");
    }
    let train = dir.path().join("imbalanced.jsonl");
    std::fs::write(&train, data).unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let output = ok(&[
            &[
                "train",
                "--model",
                model.to_str().unwrap(),
                "--train",
                train.to_str().unwrap(),
                "--val",
                train.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--epochs",
                "1",
                "--quiet",
            ][..],
            extra,
        ]
        .concat());
        let config = std::fs::read_to_string(out.join("config.toml")).unwrap();
        (String::from_utf8(output.stderr).unwrap(), config)
    };
    let (stderr, config) = run("default", &[]);
    assert!(
        stderr.contains("training with the logit-adjusted loss"),
        "{stderr}"
    );
    assert!(config.contains("loss = \"logit-adjusted\""), "{config}");
    let (stderr, config) = run("chosen", &["--loss", "ce"]);
    assert!(!stderr.contains("logit-adjusted loss"), "{stderr}");
    assert!(stderr.contains("no remedy is set: consider"), "{stderr}");
    assert!(config.contains("loss = \"ce\""), "{config}");
    let (_, config) = run("off", &["--default-remedy", "false"]);
    assert!(config.contains("loss = \"ce\""), "{config}");
}

#[test]
fn lr_find_writes_its_curve_and_chart_and_prints_flags_to_try() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train) = setup(dir.path());
    let out = dir.path().join("lr");
    let common = [
        "lr-find",
        "--model",
        model.to_str().unwrap(),
        "--train",
        train.to_str().unwrap(),
        "--val",
        train.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--train-layers",
        "1",
        "--batch-size",
        "4",
        "--quiet",
    ];
    let output = ok(&[&common[..], &["--steps", "30", "--end-lr", "1"]].concat());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("suggested"), "{stdout}");
    let found: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("lr_find.json")).unwrap()).unwrap();
    assert_eq!(found["swept"], "lr");
    assert_eq!(found["points"].as_array().unwrap().len(), 30);
    assert!(std::fs::read_to_string(out.join("lr_find.svg"))
        .unwrap()
        .contains("<svg"));

    let output = goodfit(&[&common[..], &["--steps", "3"]].concat());
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--steps"));
}

#[test]
fn a_tuned_decision_rule_is_used_by_eval_and_predict_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train) = setup(dir.path());
    let out = dir.path().join("run");
    let costs = dir.path().join("costs.csv");
    std::fs::write(&costs, "true,neg,pos\nneg,0,1\npos,3,0\n").unwrap();
    let (model_s, train_s, out_s) = (
        model.to_str().unwrap(),
        train.to_str().unwrap(),
        out.to_str().unwrap(),
    );
    let cost_flag = format!("cost:{}", costs.display());
    let output = ok(&[
        "train",
        "--model",
        model_s,
        "--train",
        train_s,
        "--val",
        train_s,
        "--test",
        train_s,
        "--out",
        out_s,
        "--epochs",
        "2",
        "--batch-size",
        "4",
        "--tune-threshold",
        &cost_flag,
        "--quiet",
    ]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("decision rule: predict"), "{stdout}");
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let decision = &metrics["decision"];
    // Costs are minimised.
    assert!(decision["val_after"].as_f64().unwrap() <= decision["val_before"].as_f64().unwrap());
    for (flags, expected) in [
        (&[][..], &metrics["test"]),
        (&["--argmax"][..], &decision["test_argmax"]),
    ] {
        let mut args = vec!["eval", "--run", out_s, "--data", train_s, "--json"];
        args.extend(flags);
        let eval: Value = serde_json::from_slice(&ok(&args).stdout).unwrap();
        assert_eq!(
            eval["confusion_matrix"], expected["confusion_matrix"],
            "{flags:?}"
        );
    }
    let input = dir.path().join("new.csv");
    std::fs::write(&input, "text\ngreat cake\n").unwrap();
    let predictions = dir.path().join("pred.csv");
    let predict = |extra: &[&str]| {
        let mut args = vec![
            "predict",
            "--run",
            out_s,
            "--input",
            input.to_str().unwrap(),
            "--output",
            predictions.to_str().unwrap(),
            "--quiet",
        ];
        args.extend(extra);
        goodfit(&args)
    };
    assert!(predict(&["--logit-adjust", "1"]).status.success());

    // `decide` sets the rule again from the saved probabilities: argmax gives the argmax
    // metrics, and tuning again gives back exactly what training wrote.
    let read_metrics = || -> Value {
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap()
    };
    ok(&["decide", out_s, "--argmax"]);
    let argmax = read_metrics();
    assert!(argmax.get("decision").is_none());
    assert_eq!(argmax["test"], decision["test_argmax"]);
    assert!(!std::fs::read_to_string(out.join("model/goodfit.json"))
        .unwrap()
        .contains("decision"));
    let output = ok(&["decide", out_s, "--tune-threshold", &cost_flag]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("tuned for cost:"));
    let again = read_metrics();
    assert_eq!(again["decision"], metrics["decision"]);
    assert_eq!(again["test"], metrics["test"]);
    assert!(std::fs::read_to_string(out.join("config.toml"))
        .unwrap()
        .contains("tune_threshold = \"cost:"));
    assert_eq!(goodfit(&["decide", out_s]).status.code(), Some(2));
    let refused = predict(&["--logit-adjust", "1", "--argmax"]);
    assert_eq!(refused.status.code(), Some(2));
    // A bad cost file is named with its line and field before training starts.
    std::fs::write(&costs, "true,neg,pos\nneg,0,one\npos,3,0\n").unwrap();
    let bad = goodfit(&[
        "train",
        "--model",
        model_s,
        "--train",
        train_s,
        "--out",
        out_s,
        "--epochs",
        "1",
        "--tune-threshold",
        &cost_flag,
        "--overwrite",
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("costs.csv:2, field 'pos'"), "{stderr}");
    assert!(
        out.join("metrics.json").is_file() && out.join("model").is_dir(),
        "a bad cost file is found before the run folder is touched"
    );
}

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

/// The records of a JSON Lines file.
fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
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

#[test]
fn soup_averages_two_runs_into_a_model_eval_takes() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train) = common::setup(dir.path());
    let (model, train) = (model.to_str().unwrap(), train.to_str().unwrap());
    // A fine-tune of the top layer on the split `split_seed` draws.
    let fit = |out: &std::path::Path, split_seed: &str, seed: &str, epochs: &str| {
        ok(&[
            "train",
            "--model",
            model,
            "--train",
            train,
            "--val-fraction",
            "0.34",
            "--split-seed",
            split_seed,
            "--seed",
            seed,
            "--epochs",
            epochs,
            "--train-layers",
            "1",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
    };
    let mut runs = Vec::new();
    for seed in ["1", "2"] {
        let out = dir.path().join(format!("run{seed}"));
        fit(&out, "7", seed, "2");
        runs.push(out);
    }
    let soup = dir.path().join("soup");
    let (a, b, out) = (
        runs[0].to_str().unwrap(),
        runs[1].to_str().unwrap(),
        soup.to_str().unwrap(),
    );
    let printed = String::from_utf8(ok(&["soup", a, b, "--out", out, "--quiet"]).stdout).unwrap();
    assert!(
        printed.contains("greedy soup of") && printed.contains("kept"),
        "{printed}"
    );
    assert!(soup.join("soup.json").is_file() && soup.join("model/model.safetensors").is_file());
    let scored = ok(&["eval", "--run", out, "--data", train, "--json"]);
    let metrics: serde_json::Value = serde_json::from_slice(&scored.stdout).unwrap();
    assert!(metrics["f1_macro"].as_f64().is_some(), "{metrics}");

    // Once written, the soup's folder is kept unless --overwrite; one run is not a soup.
    let error = refused(&["soup", a, b, "--out", out, "--quiet"]);
    assert!(error.contains("--overwrite"), "{error}");
    ok(&["soup", a, b, "--out", out, "--quiet", "--overwrite"]);
    refused(&["soup", a, "--out", out]);
    // A run of another split is named by its file and field.
    let other = dir.path().join("other");
    fit(&other, "8", "1", "1");
    let error = refused(&[
        "soup",
        a,
        other.to_str().unwrap(),
        "--out",
        out,
        "--overwrite",
    ]);
    assert!(
        error.contains("config.toml") && error.contains("split_seed"),
        "{error}"
    );
}
