//! Running the goodfit binary from the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `goodfit ARGS` and returns what it did (the feature cache off: the tests' models
/// live in fresh temporary folders, so nothing cached would be read again).
pub fn goodfit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_goodfit"))
        .env("GOODFIT_CACHE", "off")
        .args(args)
        .output()
        .expect("run goodfit")
}

/// Runs `goodfit ARGS`, which must succeed.
pub fn ok(args: &[&str]) -> Output {
    let output = goodfit(args);
    assert!(
        output.status.success(),
        "goodfit {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Runs `goodfit ARGS`, which must fail with exit status 2 and no panic; returns standard
/// error.
pub fn refused(args: &[&str]) -> String {
    let output = goodfit(args);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "goodfit {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// A tiny random BERT in `dir/tiny` and twelve labelled food reviews in
/// `dir/train.jsonl`.
pub fn setup(dir: &Path) -> (PathBuf, PathBuf) {
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

/// The records of a JSON Lines file.
pub fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
