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
