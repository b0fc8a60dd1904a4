//! Exact duplicates within a dataset and leakage between two datasets.
//!
//! Two texts are the same when they are equal after lower-casing and collapsing runs of
//! whitespace; two feature rows are the same when every value is equal.

use std::collections::HashMap;

use serde::Serialize;

use super::dataset::{Dataset, Inputs};
use super::label::Label;
use super::table::shorten;

/// How many examples to quote in a report.
const EXAMPLES: usize = 5;

/// The key under which an example counts as a duplicate of another.
pub fn duplicate_keys(inputs: &Inputs) -> Vec<String> {
    match inputs {
        Inputs::Text(texts) => texts.iter().map(|text| normalise_text(text)).collect(),
        Inputs::Features { rows, .. } => rows
            .iter()
            .map(|row| {
                row.iter()
                    // -0.0 and 0.0 are the same value; bit patterns tell the rest apart exactly.
                    .map(|v| format!("{:x}", (if *v == 0.0 { 0.0 } else { *v }).to_bits()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect(),
    }
}

/// Lower-cases `text` and replaces every run of whitespace by one space, trimming the ends.
pub fn normalise_text(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One group of rows that are the same example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicateGroup {
    /// The lines (or Parquet rows) of the copies.
    pub lines: Vec<u64>,
    /// Their labels, in the same order.
    pub labels: Vec<Label>,
    /// The normalised text or feature key, shortened.
    pub example: String,
}

/// Exact duplicates inside one dataset.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct DuplicateReport {
    /// Groups of two or more equal examples.
    pub groups: usize,
    /// Rows beyond the first of each group (what deduplication would drop).
    pub extra_rows: usize,
    /// Groups whose copies disagree on the label.
    pub conflicting_groups: usize,
    /// The first few groups, conflicting ones first.
    pub examples: Vec<DuplicateGroup>,
}

/// Finds exact duplicates in `dataset`.
pub fn find_duplicates(dataset: &Dataset) -> DuplicateReport {
    let keys = duplicate_keys(&dataset.inputs);
    let mut first_seen: HashMap<&str, usize> = HashMap::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (row, key) in keys.iter().enumerate() {
        match first_seen.get(key.as_str()) {
            Some(&group) => members[group].push(row),
            None => {
                first_seen.insert(key, members.len());
                members.push(vec![row]);
            }
        }
    }
    let mut groups: Vec<(bool, DuplicateGroup)> = members
        .into_iter()
        .filter(|rows| rows.len() > 1)
        .map(|rows| {
            let labels: Vec<Label> = rows.iter().map(|&r| dataset.labels[r].clone()).collect();
            let conflicting = labels.iter().any(|label| label != &labels[0]);
            let group = DuplicateGroup {
                lines: rows.iter().map(|&r| dataset.lines[r]).collect(),
                labels,
                example: shorten(&keys[rows[0]], 80),
            };
            (conflicting, group)
        })
        .collect();
    let extra_rows = groups.iter().map(|(_, g)| g.lines.len() - 1).sum();
    let conflicting_groups = groups.iter().filter(|(c, _)| *c).count();
    let total = groups.len();
    groups.sort_by_key(|(conflicting, _)| !*conflicting);
    DuplicateReport {
        groups: total,
        extra_rows,
        conflicting_groups,
        examples: groups.into_iter().take(EXAMPLES).map(|(_, g)| g).collect(),
    }
}

/// One test example that also appears in training.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leak {
    /// Its line in the test file.
    pub test_line: u64,
    /// The line of its first copy in the training file.
    pub train_line: u64,
    /// The normalised text or feature key, shortened.
    pub example: String,
}

/// Test examples that are exact copies of training examples.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct LeakageReport {
    /// Rows in the test file.
    pub test_rows: usize,
    /// Test rows whose example is also in the training file.
    pub leaked_rows: usize,
    /// The share of test rows that leaked.
    pub leaked_share: f64,
    /// The first few leaks.
    pub examples: Vec<Leak>,
}

/// Finds test rows whose example also appears in `train`.
pub fn find_leakage(train: &Dataset, test: &Dataset) -> LeakageReport {
    let train_keys = duplicate_keys(&train.inputs);
    let mut train_lines: HashMap<&str, u64> = HashMap::new();
    for (row, key) in train_keys.iter().enumerate() {
        train_lines.entry(key).or_insert(train.lines[row]);
    }
    let mut leaked_rows = 0;
    let mut examples = Vec::new();
    for (row, key) in duplicate_keys(&test.inputs).iter().enumerate() {
        if let Some(&train_line) = train_lines.get(key.as_str()) {
            leaked_rows += 1;
            if examples.len() < EXAMPLES {
                examples.push(Leak {
                    test_line: test.lines[row],
                    train_line,
                    example: shorten(key, 80),
                });
            }
        }
    }
    LeakageReport {
        test_rows: test.len(),
        leaked_rows,
        leaked_share: leaked_rows as f64 / test.len().max(1) as f64,
        examples,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn texts(texts: &[&str], labels: &[&str]) -> Dataset {
        Dataset {
            path: PathBuf::from("t.csv"),
            inputs: Inputs::Text(texts.iter().map(|t| t.to_string()).collect()),
            labels: labels.iter().map(|l| Label::parse(l)).collect(),
            lines: (2..2 + texts.len() as u64).collect(),
            rows_are_numbered: false,
        }
    }

    #[test]
    fn duplicates_ignore_case_and_whitespace_and_flag_conflicts() {
        let data = texts(
            &["Great  tea", "great tea ", "bad", "BAD", "bad\t", "unique"],
            &["pos", "pos", "neg", "pos", "neg", "neg"],
        );
        let report = find_duplicates(&data);
        assert_eq!(report.groups, 2);
        assert_eq!(report.extra_rows, 3);
        assert_eq!(report.conflicting_groups, 1);
        assert_eq!(
            report.examples[0].lines,
            vec![4, 5, 6],
            "conflicts come first"
        );
        assert_eq!(report.examples[0].example, "bad");
    }

    #[test]
    fn leakage_finds_test_rows_seen_in_training() {
        let train = texts(&["a b", "c", "d"], &["x", "y", "x"]);
        let test = texts(&["A  B", "e", "d", "f"], &["x", "y", "x", "y"]);
        let report = find_leakage(&train, &test);
        assert_eq!(report.leaked_rows, 2);
        assert_eq!(report.leaked_share, 0.5);
        assert_eq!(
            (report.examples[0].test_line, report.examples[0].train_line),
            (2, 2)
        );
        assert_eq!(
            (report.examples[1].test_line, report.examples[1].train_line),
            (4, 4)
        );
    }

    #[test]
    fn feature_rows_compare_exactly() {
        let inputs = Inputs::Features {
            names: vec!["a".into(), "b".into()],
            rows: vec![vec![0.0, 1.5], vec![-0.0, 1.5], vec![0.0, 1.5000001]],
        };
        let keys = duplicate_keys(&inputs);
        assert_eq!(keys[0], keys[1]);
        assert_ne!(keys[0], keys[2]);
    }
}
