//! `goodfit evaluate` end to end: the binary on predictions files, against scikit-learn's
//! numbers (the library's reference fixture, written out as CSV files).

use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;
use common::goodfit;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn reference_cases() -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../goodfit/tests/fixtures/metrics_reference.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["cases"].as_array().unwrap().clone()
}

/// A case as a predictions CSV: `label,pred[,prob_<label>...]`.
fn case_csv(case: &Value, with_proba: bool) -> String {
    let labels = case["labels"].as_array().unwrap();
    let mut header = vec!["label".to_string(), "pred".to_string()];
    if with_proba {
        header.extend(labels.iter().map(|l| format!("prob_{l}")));
    }
    let mut text = header.join(",") + "\n";
    for (i, y) in case["y_true"].as_array().unwrap().iter().enumerate() {
        let mut fields = vec![y.to_string(), case["y_pred"][i].to_string()];
        if with_proba {
            for p in case["y_score"][i].as_array().unwrap() {
                fields.push(format!("{}", p.as_f64().unwrap()));
            }
        }
        text += &(fields.join(",") + "\n");
    }
    text
}

fn assert_close(ours: &Value, theirs: &Value, what: &str) {
    match (ours, theirs) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!((a - b).abs() <= 1e-9, "{what}: ours {a}, scikit-learn {b}");
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{what}: lengths differ");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_close(x, y, &format!("{what}[{i}]"));
            }
        }
        _ => assert_eq!(ours, theirs, "{what}"),
    }
}

fn check_case(case: &Value, report: &Value) {
    let name = case["name"].as_str().unwrap();
    for (key, expected) in case["expected"].as_object().unwrap() {
        if key == "per_class" {
            let labels = case["labels"].as_array().unwrap();
            for (field, values) in expected.as_object().unwrap() {
                for (i, label) in labels.iter().enumerate() {
                    let ours = &report["per_class"][label.to_string()][field];
                    assert_close(
                        ours,
                        &values[i],
                        &format!("{name}: per_class[{label}].{field}"),
                    );
                }
            }
        } else {
            assert_close(&report[key], expected, &format!("{name}: {key}"));
        }
    }
}

#[test]
fn evaluate_json_agrees_with_scikit_learn_on_every_reference_case() {
    let dir = tempfile::tempdir().unwrap();
    for case in reference_cases() {
        let name = case["name"].as_str().unwrap();
        let path = write(dir.path(), &format!("{name}.csv"), &case_csv(&case, true));
        let output = goodfit(&[
            "evaluate",
            "--predictions",
            path.to_str().unwrap(),
            "--json",
        ]);
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        check_case(&case, &report);
        assert_eq!(report["labels"], case["labels"], "{name}: labels");
    }
}

#[test]
fn without_probabilities_the_label_metrics_still_agree() {
    let dir = tempfile::tempdir().unwrap();
    for case in reference_cases() {
        let name = case["name"].as_str().unwrap();
        let labels = case["labels"].as_array().unwrap();
        let seen = |l: &Value| {
            case["y_true"].as_array().unwrap().contains(l)
                || case["y_pred"].as_array().unwrap().contains(l)
        };
        if !labels.iter().all(seen) {
            continue; // without probability columns or --labels, unseen classes cannot be known
        }
        let path = write(dir.path(), &format!("{name}.csv"), &case_csv(&case, false));
        let output = goodfit(&[
            "evaluate",
            "--predictions",
            path.to_str().unwrap(),
            "--json",
        ]);
        assert!(output.status.success(), "{name}");
        let mut report: Value = serde_json::from_slice(&output.stdout).unwrap();
        for key in ["roc_auc", "average_precision", "log_loss", "brier", "ece"] {
            assert_eq!(
                report[key],
                Value::Null,
                "{name}: {key} needs probabilities"
            );
            report.as_object_mut().unwrap().remove(key);
        }
        let mut label_only = case.clone();
        let expected = label_only["expected"].as_object_mut().unwrap();
        for key in ["roc_auc", "average_precision", "log_loss", "brier"] {
            expected.remove(key);
        }
        check_case(&label_only, &report);
    }
}

#[test]
fn json_has_exactly_the_documented_keys_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "p.csv",
        "label,pred,prob_a,prob_b\na,a,0.9,0.1\nb,a,0.6,0.4\nb,b,0.2,0.8\na,b,0.3,0.7\n",
    );
    let output = goodfit(&[
        "evaluate",
        "--predictions",
        path.to_str().unwrap(),
        "--json",
    ]);
    assert!(output.status.success());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let keys: Vec<&str> = report
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "accuracy",
            "balanced_accuracy",
            "precision_macro",
            "recall_macro",
            "f1_macro",
            "precision_weighted",
            "recall_weighted",
            "f1_weighted",
            "precision_micro",
            "recall_micro",
            "f1_micro",
            "mcc",
            "cohen_kappa",
            "geometric_mean",
            "roc_auc",
            "average_precision",
            "log_loss",
            "brier",
            "ece",
            "labels",
            "confusion_matrix",
            "per_class"
        ]
    );
    assert_eq!(report["labels"], serde_json::json!(["a", "b"]));
    assert_eq!(
        report["confusion_matrix"],
        serde_json::json!([[1, 1], [1, 1]])
    );
    assert_eq!(report["per_class"]["b"]["support"], 2);
}

#[test]
fn probabilities_alone_predict_their_argmax() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "p.jsonl", "{\"label\": \"x\", \"prob_x\": 0.7, \"prob_y\": 0.3}\n{\"label\": \"y\", \"prob_x\": 0.6, \"prob_y\": 0.4}\n");
    let output = goodfit(&[
        "evaluate",
        "--predictions",
        path.to_str().unwrap(),
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        report["confusion_matrix"],
        serde_json::json!([[1, 0], [1, 0]])
    );
    assert_eq!(report["accuracy"], 0.5);
}

#[test]
fn declared_labels_keep_their_order_and_count_unseen_classes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "p.csv", "label,pred\nb,b\na,b\n");
    let output = goodfit(&[
        "evaluate",
        "--predictions",
        path.to_str().unwrap(),
        "--labels",
        "b,a,c",
        "--json",
    ]);
    assert!(output.status.success());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["labels"], serde_json::json!(["b", "a", "c"]));
    assert_eq!(report["per_class"]["c"]["support"], 0);
    // scikit-learn: recall_score(["b","a"], ["b","b"], labels=["b","a","c"], average="macro", zero_division=0) == 1/3
    assert!((report["recall_macro"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn the_text_report_lists_every_class() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/fine_foods/predictions-tfidf-logreg.csv");
    let output = goodfit(&["evaluate", "--predictions", path.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "great",
        "other",
        "avg / total",
        "balanced accuracy",
        "ROC-AUC",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

/// Runs goodfit on a bad predictions file and returns its one-line error.
fn bad(text: &str, name: &str, extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), name, text);
    let mut args = vec![
        "evaluate",
        "--predictions",
        path.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    let output = goodfit(&args);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{name} should fail with status 2"
    );
    assert!(output.stdout.is_empty(), "nothing is printed on failure");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn bad_predictions_get_one_line_errors_and_status_2() {
    let e = bad("label,pred,prob_a,prob_b\na,a,NaN,0.5\n", "nan.csv", &[]);
    assert!(
        e.contains("nan.csv:2, field 'prob_a': probability NaN is not a finite number"),
        "{e}"
    );
    let e = bad("label,pred,prob_a,prob_b\na,a,inf,0.5\n", "inf.csv", &[]);
    assert!(
        e.contains("inf.csv:2, field 'prob_a': probability inf is not a finite number"),
        "{e}"
    );
    let e = bad(
        "label,pred,prob_a,prob_b\na,c,0.5,0.5\n",
        "unknown.csv",
        &[],
    );
    assert!(
        e.contains("unknown.csv:2, field 'pred': label 'c' is not among the known labels (a, b)"),
        "{e}"
    );
    let e = bad(
        "label,pred\na,a\nb,c\n",
        "declared.csv",
        &["--labels", "a,b"],
    );
    assert!(
        e.contains("declared.csv:3, field 'pred': label 'c' is not among the known labels (a, b)"),
        "{e}"
    );
    let e = bad("y,pred\na,a\n", "nolabel.csv", &[]);
    assert!(
        e.contains("nolabel.csv: no column 'label' (the columns are: y, pred)"),
        "{e}"
    );
    let e = bad("label,guess\na,a\n", "nopred.csv", &[]);
    assert!(
        e.contains("no column 'pred' and no 'prob_<label>' probability columns"),
        "{e}"
    );
    let e = bad("label,pred\na,a,a\n", "fields.csv", &[]);
    assert!(
        e.contains("fields.csv:2: expected 2 fields as in the header, found 3"),
        "{e}"
    );
    let e = bad("", "empty.csv", &[]);
    assert!(e.contains("empty.csv: the file is empty"), "{e}");
    let e = bad(
        "label,pred,prob_a\na,a,1\n",
        "missingprob.csv",
        &["--labels", "a,b"],
    );
    assert!(e.contains("no probability column for label(s) b"), "{e}");
    let missing = goodfit(&["evaluate", "--predictions", "/no/such.csv"]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn non_utf8_predictions_fail_unless_lossy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.csv");
    std::fs::write(&path, b"label,pred\ncaf\xe9,caf\xe9\nx,x\n").unwrap();
    let output = goodfit(&["evaluate", "--predictions", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("latin1.csv:2, field 'label': byte 0xE9")
    );
    let output = goodfit(&[
        "evaluate",
        "--predictions",
        path.to_str().unwrap(),
        "--lossy",
        "--json",
    ]);
    assert!(output.status.success());
}

#[test]
fn rows_that_do_not_sum_to_one_draw_a_warning_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "sum.csv",
        "label,pred,prob_a,prob_b\na,a,0.9,0.3\nb,b,0.4,0.6\n",
    );
    let output = goodfit(&[
        "evaluate",
        "--predictions",
        path.to_str().unwrap(),
        "--json",
    ]);
    assert!(output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("warning: ")
            && stderr.contains(
                "1 rows have probabilities that do not sum to 1 (first at line 2: sum 1.200000)"
            ),
        "{stderr}"
    );
}
