//! Confident learning equals cleanlab 2.x's `find_label_issues` (defaults, ranked by
//! self-confidence): the flagged rows, their order and the confident joint, on the cases
//! of `fixtures/cleanlab_reference.json` (written by `scripts/make_cleanlab_fixture.py`
//! with cleanlab; probabilities stored as float64 bit patterns).

use goodfit::audit::find_label_issues;
use serde_json::Value;

#[test]
fn flagged_rows_and_their_order_equal_cleanlab_s() {
    let text = include_str!("fixtures/cleanlab_reference.json");
    let fixture: Value = serde_json::from_str(text).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert!(cases.len() >= 7);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let classes = case["classes"].as_u64().unwrap() as usize;
        let labels: Vec<usize> = serde_json::from_value(case["labels"].clone()).unwrap();
        let bits: Vec<Vec<u64>> = serde_json::from_value(case["proba_bits"].clone()).unwrap();
        let proba: Vec<Vec<f64>> = bits
            .iter()
            .map(|row| row.iter().map(|&b| f64::from_bits(b)).collect())
            .collect();
        let joint: Vec<Vec<i64>> = serde_json::from_value(case["confident_joint"].clone()).unwrap();
        let expected: Vec<usize> = serde_json::from_value(case["issues_ranked"].clone()).unwrap();
        let found = find_label_issues(&labels, &proba, classes);
        assert_eq!(found.confident_joint, joint, "{name}: confident joint");
        assert_eq!(found.ranked, expected, "{name}: flagged rows in order");
        assert!(!expected.is_empty() || name.contains("clean"), "{name}");
    }
}
