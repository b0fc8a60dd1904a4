//! `goodfit train`, `predict`, `eval` and `soup` end to end on a tiny random BERT (`--auto`:
//! tests/auto.rs).

use serde_json::Value;

mod common;
use common::{goodfit, json_lines, ok, refused, setup};

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
