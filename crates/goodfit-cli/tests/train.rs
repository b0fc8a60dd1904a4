//! `goodfit train`, `predict` and `eval` end to end on a tiny random BERT.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn goodfit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_goodfit"))
        .args(args)
        .output()
        .expect("run goodfit")
}

fn ok(args: &[&str]) -> Output {
    let output = goodfit(args);
    assert!(
        output.status.success(),
        "goodfit {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let model = dir.join("tiny");
    goodfit::model::tiny::write_tiny_bert(&model, 3).unwrap();
    let mut data = String::new();
    for (text, label) in [
        ("great tea", "pos"),
        ("awful tea", "neg"),
        ("lovely cake", "pos"),
        ("stale bread", "neg"),
        ("good fresh bread", "pos"),
        ("bland soup", "neg"),
        ("tasty soup", "pos"),
        ("terrible coffee", "neg"),
        ("love this coffee", "pos"),
        ("hate this cake", "neg"),
        ("very good tea", "pos"),
        ("not good", "neg"),
    ] {
        data += &format!("{{\"text\": \"{text}\", \"label\": \"{label}\"}}\n");
    }
    let train = dir.join("train.jsonl");
    std::fs::write(&train, data).unwrap();
    (model, train)
}

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

    let history: Vec<Value> = std::fs::read_to_string(out.join("history.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
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
        stderr.contains("bad.toml:2: unknown field `learning_rate`"),
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
        "--quiet",
    ]);
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("costs.csv:2, field 'pos'"), "{stderr}");
}
