//! `goodfit bench` on a tiny random BERT.

use std::process::Command;

use serde_json::Value;

#[test]
fn bench_times_inference_and_training_and_reports_memory() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny");
    goodfit::model::tiny::write_tiny_bert(&model, 5).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_goodfit"))
        .args(["bench", "--model", model.to_str().unwrap()])
        .args([
            "--batch-size",
            "2",
            "--seq-len",
            "8",
            "--steps",
            "2",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    for key in ["inference_seconds", "train_step_seconds"] {
        let times = report[key].as_array().unwrap();
        assert_eq!(times.len(), 2, "{key}");
        assert!(times.iter().all(|t| t.as_f64().unwrap() > 0.0), "{key}");
    }
    assert!(report["threads"].as_u64().unwrap() >= 1);
    if cfg!(target_os = "linux") {
        let (a, b) = (
            report["peak_rss_after_inference"].as_u64().unwrap(),
            report["peak_rss_after_training"].as_u64().unwrap(),
        );
        assert!(a > 0 && b >= a, "{a} {b}");
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_goodfit"))
        .args([
            "bench",
            "--model",
            dir.path().join("missing").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn bench_measures_padding_on_a_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny");
    goodfit::model::tiny::write_tiny_bert(&model, 5).unwrap();
    let data = dir.path().join("data.csv");
    let mut csv = String::from("text,label\n");
    for i in 0..40 {
        let words = vec!["good"; 1 + (i * 7) % 20].join(" ");
        csv.push_str(&format!("{words},{}\n", i % 2));
    }
    std::fs::write(&data, csv).unwrap();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_goodfit"))
            .args(["bench", "--model", model.to_str().unwrap()])
            .args([
                "--padding-data",
                data.to_str().unwrap(),
                "--batch-size",
                "4",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let output = run(&["--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let slots = |key: &str| report[key].as_u64().unwrap();
    assert_eq!(slots("examples"), 40);
    // Sorting by length wastes no more than grouping, which wastes less than random batches.
    assert!(slots("tokens") <= slots("sorted_slots"));
    assert!(slots("sorted_slots") <= slots("grouped_slots"));
    assert!(slots("grouped_slots") < slots("random_slots"));

    let output = run(&["--text-col", "review"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("review"));
}
