//! Checks `goodfit::metrics` against scikit-learn 1.9.1 / imbalanced-learn 0.14.2.
//!
//! Two fixtures, both under `tests/fixtures/`:
//! - `metrics_reference.json` (16 cases, given): every value in `expected` must match to
//!   1e-9; a scalar metric absent from `expected` is undefined for that case and must be
//!   `None`, with two documented exceptions — `ece` (scikit-learn has none, so the fixture
//!   never lists it; it must be defined whenever probabilities are given) and `brier` for a
//!   binary case whose `y_true` holds one class only: scikit-learn 1.9.1 returns a number
//!   there (`brier_score_loss(y_true == labels[1], proba[:, 1])` is the plain mean squared
//!   error, see the `single_class_binary` case of the second fixture), so we report it and
//!   check it against that mean squared error computed here.
//! - `metrics_extra.json` (made by `metrics_extra_generator.py`): edge cases — string
//!   labels, classes only predicted or absent, perfect and all-wrong predictions, score
//!   ties, probabilities of exactly 0 and 1, rows that do not sum to 1, ECE from NumPy —
//!   listing every scalar metric (null = undefined), plus imbalanced-learn's report.

use std::cell::RefCell;
use std::path::PathBuf;

use goodfit::data::{Label, LabelMap};
use goodfit::metrics::text_report::{imbalanced_rows, ImbalancedRow};
use goodfit::metrics::{compute, text_report, ClassScores, Metrics, SCALAR_METRICS};
use serde_json::Value;

const TOLERANCE: f64 = 1e-9;

fn load(name: &str) -> Value {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", name]
        .iter()
        .collect();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One fixture case turned into goodfit's inputs.
struct Case {
    name: String,
    labels: LabelMap,
    y_true: Vec<usize>,
    y_pred: Vec<usize>,
    proba: Option<Vec<Vec<f64>>>,
    expected: serde_json::Map<String, Value>,
}

fn label_of(value: &Value) -> Label {
    match value {
        Value::Number(n) => Label::Int(n.as_i64().expect("integer label")),
        Value::String(s) => Label::Text(s.clone()),
        other => panic!("unexpected label {other}"),
    }
}

fn parse_case(case: &Value) -> Case {
    let name = case["name"].as_str().unwrap().to_string();
    let raw_labels = case["labels"].as_array().unwrap();
    let labels = LabelMap::from_ordered(raw_labels.iter().map(label_of).collect());
    let index = |v: &Value| {
        raw_labels
            .iter()
            .position(|l| l == v)
            .unwrap_or_else(|| panic!("{name}: {v} is not in labels"))
    };
    let y_true = case["y_true"]
        .as_array()
        .unwrap()
        .iter()
        .map(index)
        .collect();
    let y_pred = case["y_pred"]
        .as_array()
        .unwrap()
        .iter()
        .map(index)
        .collect();
    let proba = case["y_score"].as_array().map(|rows| {
        rows.iter()
            .map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect()
            })
            .collect()
    });
    let expected = case["expected"].as_object().unwrap().clone();
    Case {
        name,
        labels,
        y_true,
        y_pred,
        proba,
        expected,
    }
}

fn run(case: &Case) -> Metrics {
    compute(
        &case.y_true,
        &case.y_pred,
        case.proba.as_deref(),
        &case.labels,
    )
    .unwrap_or_else(|e| panic!("{}: compute failed: {e}", case.name))
}

thread_local! {
    /// The largest deviation seen by this test (each test runs on its own thread), printed
    /// at its end (`--nocapture` shows it).
    static LARGEST_DIFF: RefCell<(f64, String)> = const { RefCell::new((0.0, String::new())) };
}

fn assert_close(case: &str, what: &str, ours: f64, theirs: f64) {
    LARGEST_DIFF.with_borrow_mut(|largest| {
        if (ours - theirs).abs() > largest.0 {
            *largest = ((ours - theirs).abs(), format!("{case}: {what}"));
        }
    });
    assert!(
        (ours - theirs).abs() <= TOLERANCE,
        "{case}: {what}: goodfit {ours} vs reference {theirs} (diff {:e})",
        (ours - theirs).abs()
    );
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// Checks a scalar that the fixture lists (a number, or null for undefined).
fn check_listed(case: &str, name: &str, ours: Option<f64>, theirs: &Value) {
    match (ours, theirs.as_f64()) {
        (Some(ours), Some(theirs)) => assert_close(case, name, ours, theirs),
        (None, None) => assert!(theirs.is_null(), "{case}: {name}: bad fixture value"),
        (ours, _) => panic!("{case}: {name}: goodfit {ours:?} vs reference {theirs}"),
    }
}

/// Checks the confusion matrix and the per-class arrays (the fixtures' layout:
/// `{precision: [..], recall: [..], f1: [..], support: [..]}`) and the labels.
fn check_tables(case: &Case, m: &Metrics) {
    let name = &case.name;
    assert_eq!(m.labels, case.labels.labels(), "{name}: labels");
    let cm: Vec<Vec<u64>> = serde_json::from_value(case.expected["confusion_matrix"].clone())
        .expect("confusion_matrix");
    assert_eq!(m.confusion_matrix, cm, "{name}: confusion_matrix");
    let per_class = &case.expected["per_class"];
    let ours = |get: fn(&ClassScores) -> f64| m.per_class.iter().map(get).collect::<Vec<_>>();
    for (field, values) in [
        ("precision", ours(|s| s.precision)),
        ("recall", ours(|s| s.recall)),
        ("f1", ours(|s| s.f1)),
    ] {
        let theirs = floats(&per_class[field]);
        assert_eq!(theirs.len(), values.len(), "{name}: per_class.{field}");
        for (k, (o, t)) in values.iter().zip(&theirs).enumerate() {
            assert_close(name, &format!("per_class.{field}[{k}]"), *o, *t);
        }
    }
    let support: Vec<u64> = serde_json::from_value(per_class["support"].clone()).unwrap();
    let ours: Vec<u64> = m.per_class.iter().map(|s| s.support).collect();
    assert_eq!(ours, support, "{name}: per_class.support");
}

/// Binary problem with one class only in `y_true`.
fn single_class_binary(case: &Case) -> bool {
    case.labels.len() == 2 && case.y_true.iter().all(|&t| t == case.y_true[0])
}

#[test]
fn reference_fixture_matches_scikit_learn() {
    let fixture = load("metrics_reference.json");
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 16);
    let mut checked = 0usize;
    for raw in cases {
        let case = parse_case(raw);
        let m = run(&case);
        for name in SCALAR_METRICS {
            let ours = m.get(name);
            match case.expected.get(name) {
                Some(theirs) => {
                    check_listed(&case.name, name, ours, theirs);
                    checked += 1;
                }
                None if name == "ece" => {
                    assert_eq!(ours.is_some(), case.proba.is_some(), "{}: ece", case.name)
                }
                None if name == "brier" && single_class_binary(&case) => {
                    // Not in the fixture; scikit-learn 1.9.1 gives the plain mean squared
                    // error of the positive-class probability here.
                    let proba = case.proba.as_ref().unwrap();
                    let mse = case
                        .y_true
                        .iter()
                        .zip(proba)
                        .map(|(&t, row)| (if t == 1 { 1.0 } else { 0.0 } - row[1]).powi(2))
                        .sum::<f64>()
                        / proba.len() as f64;
                    assert_close(&case.name, "brier", ours.expect("brier defined"), mse);
                }
                None => assert_eq!(
                    ours, None,
                    "{}: {name} is absent from the fixture (undefined) but goodfit gives a number",
                    case.name
                ),
            }
        }
        check_tables(&case, &m);
    }
    // Every listed value was compared (16 cases, most with 18 listed scalars).
    assert!(checked > 250, "only {checked} scalar values checked");
    report_largest_diff();
}

#[test]
fn extra_fixture_matches_scikit_learn_and_numpy() {
    let fixture = load("metrics_extra.json");
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for raw in cases {
        let case = parse_case(raw);
        let m = run(&case);
        for name in SCALAR_METRICS {
            let theirs = case
                .expected
                .get(name)
                .unwrap_or_else(|| panic!("{}: fixture lacks {name}", case.name));
            check_listed(&case.name, name, m.get(name), theirs);
        }
        check_tables(&case, &m);
        check_imbalanced_report(&case, &m);
        check_json(&case, &m);
    }
    report_largest_diff();
}

fn report_largest_diff() {
    LARGEST_DIFF.with_borrow(|(diff, at)| {
        println!("largest |goodfit - reference|: {diff:e} ({at})");
    });
}

/// Per-class specificity, G-mean and IBA, their support-weighted averages, and the table
/// text, against imbalanced-learn's `classification_report_imbalanced`.
fn check_imbalanced_report(case: &Case, m: &Metrics) {
    let name = &case.name;
    let report = &case.expected["imbalanced_report"];
    let (rows, avg) = imbalanced_rows(m).expect("consistent metrics");
    let ours = |get: fn(&ImbalancedRow) -> f64| rows.iter().map(get).collect::<Vec<_>>();
    for (key, values) in [
        ("spe", ours(|r| r.specificity)),
        ("geo", ours(|r| r.geometric_mean)),
        ("iba", ours(|r| r.iba)),
    ] {
        let theirs = floats(&report[key]);
        assert_eq!(theirs.len(), values.len(), "{name}: {key}");
        for (k, (o, t)) in values.iter().zip(&theirs).enumerate() {
            assert_close(name, &format!("{key}[{k}]"), *o, *t);
        }
    }
    for (key, ours) in [
        ("avg_pre", avg.precision),
        ("avg_rec", avg.recall),
        ("avg_spe", avg.specificity),
        ("avg_f1", avg.f1),
        ("avg_geo", avg.geometric_mean),
        ("avg_iba", avg.iba),
    ] {
        assert_close(name, key, ours, report[key].as_f64().unwrap());
    }
    assert_eq!(
        avg.support,
        report["total_support"].as_u64().unwrap(),
        "{name}: total_support"
    );
    // Our report starts with imbalanced-learn's table, character for character — except
    // that when no example is predicted correctly scikit-learn's
    // `precision_recall_fscore_support` returns the supports as floats (its
    // `multilabel_confusion_matrix` falls back to `np.zeros`), so imbalanced-learn prints
    // `4.0`; a count is printed as an integer here.
    let table = integer_supports(case.expected["imbalanced_report_text"].as_str().unwrap());
    let ours = text_report(m);
    assert!(
        ours.starts_with(&table),
        "{name}: table differs\n--- imbalanced-learn\n{table}\n--- goodfit\n{ours}"
    );
}

/// Rewrites a float support (`4.0`, the table's last 9-character column) as an integer.
fn integer_supports(table: &str) -> String {
    let mut out = String::new();
    for line in table.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let fixed = match body.rsplit_once(' ') {
            Some((_, last)) if body.len() >= 9 && last.ends_with(".0") => {
                let support = &last[..last.len() - 2];
                if support.chars().all(|c| c.is_ascii_digit()) {
                    format!("{}{support:>9}", &body[..body.len() - 9])
                } else {
                    body.to_string()
                }
            }
            _ => body.to_string(),
        };
        out.push_str(&fixed);
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// The JSON form: documented key order, labels as numbers or strings, per_class keyed by
/// label text, undefined values as null.
fn check_json(case: &Case, m: &Metrics) {
    let name = &case.name;
    let value = serde_json::to_value(m).unwrap();
    let object = value.as_object().unwrap();
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    let mut expected_keys = SCALAR_METRICS.to_vec();
    expected_keys.extend(["labels", "confusion_matrix", "per_class"]);
    assert_eq!(keys, expected_keys, "{name}: JSON keys");
    for metric in SCALAR_METRICS {
        assert_eq!(
            object[metric].is_null(),
            case.expected[metric].is_null(),
            "{name}: {metric} null-ness in JSON"
        );
    }
    let per_class = object["per_class"].as_object().unwrap();
    let texts: Vec<String> = case.labels.labels().iter().map(Label::to_string).collect();
    assert_eq!(
        per_class.keys().cloned().collect::<Vec<_>>(),
        texts,
        "{name}: per_class keys"
    );
    for (k, text) in texts.iter().enumerate() {
        let support = per_class[text]["support"].as_u64().unwrap();
        assert_eq!(support, m.per_class[k].support, "{name}: per_class[{text}]");
    }
}
