//! `goodfit inspect` end to end.

use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;
use common::goodfit;

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/fine_foods")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn json(args: &[&str]) -> Value {
    let output = goodfit(args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn fine_foods_summary_counts_classes_and_lengths() {
    let train = example("train.jsonl");
    let test = example("test.jsonl");
    let summary = json(&["inspect", "--data", &train, "--test", &test, "--json"]);
    assert_eq!(summary["rows"], 4000);
    assert_eq!(summary["kind"], "text");
    assert_eq!(summary["classes"][0]["label"], "great");
    assert_eq!(summary["classes"][0]["count"], 2600);
    assert_eq!(summary["classes"][1]["count"], 1400);
    assert!((summary["imbalance_ratio"].as_f64().unwrap() - 2600.0 / 1400.0).abs() < 1e-12);
    assert_eq!(summary["lengths"]["unit"], "characters");
    assert_eq!(summary["test"]["rows"], 1000);
    assert_eq!(summary["test"]["classes"][1]["count"], 342);
    assert!(summary["test"]["leakage"]["leaked_rows"].is_u64());

    let output = goodfit(&["inspect", "--data", &train]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("4000 rows, text data"), "{text}");
    assert!(text.contains("great") && text.contains("65.0%"), "{text}");
}

#[test]
fn warnings_name_small_classes_imbalance_empty_texts_duplicates_and_leakage() {
    let dir = tempfile::tempdir().unwrap();
    let mut train = String::from("text,label\n");
    for i in 0..44 {
        train += &format!("review number {i},big\n");
    }
    train += "Same text,big\nsame   TEXT,small\n,small\nshared,small\n";
    let train = write(dir.path(), "train.csv", &train);
    let test = write(
        dir.path(),
        "test.csv",
        "text,label\nSHARED,small\nnew,big\nnovel,other\n",
    );
    let summary = json(&[
        "inspect",
        "--data",
        train.to_str().unwrap(),
        "--test",
        test.to_str().unwrap(),
        "--json",
    ]);
    let warnings: Vec<&str> = summary["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    let has = |needle: &str| warnings.iter().any(|w| w.contains(needle));
    assert!(has("class 'small' has only 3 rows"), "{warnings:?}");
    assert!(has("imbalance ratio 15.0"), "{warnings:?}");
    assert!(has("1 empty texts (lines 48)"), "{warnings:?}");
    assert!(
        has("1 duplicate rows in 1 groups (1 groups with conflicting labels)"),
        "{warnings:?}"
    );
    assert!(has("leakage: 1 of 3 test rows"), "{warnings:?}");
    assert!(
        has("labels the training file never has: other"),
        "{warnings:?}"
    );
    assert_eq!(
        summary["duplicates"]["examples"][0]["lines"],
        serde_json::json!([46, 47])
    );
    assert_eq!(summary["test"]["leakage"]["examples"][0]["train_line"], 49);
}

#[test]
fn tabular_files_report_their_feature_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "t.csv",
        "x1,x2,name,label\n1,2,a,0\n3,4,b,1\n1,2,c,1\n",
    );
    let summary = json(&["inspect", "--data", path.to_str().unwrap(), "--json"]);
    assert_eq!(summary["kind"], "tabular");
    assert_eq!(summary["features"], serde_json::json!(["x1", "x2"]));
    assert_eq!(summary["duplicates"]["conflicting_groups"], 1);
    let summary = json(&[
        "inspect",
        "--data",
        path.to_str().unwrap(),
        "--features",
        "x2",
        "--json",
    ]);
    assert_eq!(summary["features"], serde_json::json!(["x2"]));
}

#[test]
fn token_lengths_need_a_real_tokenizer_and_a_missing_model_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // A WordPiece vocabulary written here: inspect counts [CLS] + tokens + [SEP].
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    write(
        &model,
        "vocab.txt",
        "[PAD]\n[UNK]\n[CLS]\n[SEP]\ngood\ntea\n##s\n",
    );
    let data = write(dir.path(), "d.csv", "text,label\nGood teas,a\ntea,b\n");
    let summary = json(&[
        "inspect",
        "--data",
        data.to_str().unwrap(),
        "--model",
        model.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(summary["lengths"]["unit"], "tokens");
    assert_eq!(summary["lengths"]["max"], 5.0); // [CLS] good tea ##s [SEP]
    assert_eq!(summary["lengths"]["min"], 3.0);

    let output = goodfit(&[
        "inspect",
        "--data",
        data.to_str().unwrap(),
        "--model",
        "/no/model",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/no/model: no such model folder"));
}

#[test]
fn bad_data_gets_one_line_errors_and_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "nolabel.csv",
            "text,y\na,b\n",
            "nolabel.csv: no column 'label' (the columns are: text, y)",
        ),
        (
            "short.csv",
            "text,label\na\n",
            "short.csv:2: expected 2 fields as in the header, found 1",
        ),
        ("empty.jsonl", "", "empty.jsonl: the file is empty"),
        (
            "bad.jsonl",
            "{\"text\": \"a\", \"label\": 1}\n{\"text\": \n",
            "bad.jsonl:2:9: invalid JSON",
        ),
        (
            "nolab.jsonl",
            "{\"text\": \"a\", \"label\": null}\n",
            "nolab.jsonl:1, field 'label': the label is empty",
        ),
    ];
    for (name, text, expected) in cases {
        let path = write(dir.path(), name, text);
        let output = goodfit(&["inspect", "--data", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(2), "{name}");
        assert!(output.stdout.is_empty(), "{name}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
    let output = goodfit(&["inspect", "--data", "x.csv", "--delimiter", "ab"]);
    assert_eq!(output.status.code(), Some(2));
}
