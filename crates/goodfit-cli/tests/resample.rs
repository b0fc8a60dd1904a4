//! `goodfit resample` end to end.

use std::path::{Path, PathBuf};

mod common;
use common::goodfit;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// 30 rows of `big` on a ring, 8 of `small` in a cluster that touches it, and a text column.
fn table(with_note: bool) -> String {
    let mut text = String::from(if with_note {
        "x,note,label,y\n"
    } else {
        "x,label,y\n"
    });
    let mut push = |x: f64, label: &str, y: f64, i: usize| {
        if with_note {
            text += &format!("{x},row {i},{label},{y}\n");
        } else {
            text += &format!("{x},{label},{y}\n");
        }
    };
    for i in 0..30 {
        let angle = i as f64 * std::f64::consts::TAU / 30.0;
        push(
            (angle.cos() * 4.0 * 1000.0).round() / 1000.0,
            "big",
            (angle.sin() * 4.0 * 1000.0).round() / 1000.0,
            i,
        );
    }
    for i in 0..8 {
        push(
            3.0 + 0.25 * i as f64,
            "small",
            0.5 - 0.125 * i as f64,
            30 + i,
        );
    }
    text
}

fn run_ok(args: &[&str]) -> String {
    let output = goodfit(args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn run_err(args: &[&str]) -> String {
    let output = goodfit(args);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    stderr
}

/// `goodfit resample --input INPUT --method METHOD --output OUTPUT` and `more` flags.
fn resample_args<'a>(
    input: &'a Path,
    method: &'a str,
    output: &'a Path,
    more: &[&'a str],
) -> Vec<&'a str> {
    let mut args = vec![
        "resample",
        "--input",
        input.to_str().unwrap(),
        "--method",
        method,
        "--output",
        output.to_str().unwrap(),
    ];
    args.extend(more);
    args
}

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| line.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn smote_balances_a_csv_and_keeps_its_columns() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "data.csv", &table(false));
    let output = dir.path().join("out.csv");
    let stdout = run_ok(&resample_args(&input, "smote", &output, &["--seed", "3"]));
    assert!(stdout.contains("smote: 38 rows → 60 (22 new)"), "{stdout}");
    let lines: Vec<Vec<&str>> = stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["class", "before", "after"]);
    assert_eq!(lines[1], ["big", "30", "30"]);
    assert_eq!(lines[2], ["small", "8", "30"]);
    assert_eq!(lines[3], ["total", "38", "60"]);

    let rows = read_csv(&output);
    assert_eq!(rows[0], ["x", "label", "y"]);
    assert_eq!(rows.len(), 61);
    // The input rows first, exactly as written; then the new ones, labelled `small`, inside
    // the small cluster's bounding box.
    let original = table(false);
    let original: Vec<&str> = original.lines().collect();
    let written = std::fs::read_to_string(&output).unwrap();
    let written: Vec<&str> = written.lines().collect();
    assert_eq!(&written[..39], &original[..]);
    for row in &rows[39..] {
        assert_eq!(row[1], "small");
        let (x, y): (f64, f64) = (row[0].parse().unwrap(), row[2].parse().unwrap());
        assert!(
            (3.0..=4.75).contains(&x) && (-0.375..=0.5).contains(&y),
            "{row:?}"
        );
    }
    // The same seed writes the same file.
    let again = dir.path().join("again.csv");
    run_ok(&resample_args(&input, "smote", &again, &["--seed", "3"]));
    assert_eq!(
        std::fs::read(&output).unwrap(),
        std::fs::read(&again).unwrap()
    );
}

#[test]
fn tomek_copies_whole_rows_text_columns_included() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "data.csv", &table(true));
    let output = dir.path().join("out.jsonl");
    let stdout = run_ok(&resample_args(&input, "tomek", &output, &[]));
    assert!(stdout.contains("tomek: 38 rows →"), "{stdout}");
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // The ring point at (4, 0) and the cluster's first point (3, 0.5) are each other's
    // nearest neighbours: a Tomek link, whose `big` member goes.
    assert!(rows.len() < 38);
    assert!(rows.iter().all(|r| r["note"] != "row 0"));
    assert_eq!(rows.iter().filter(|r| r["label"] == "small").count(), 8);
    let keys: Vec<&String> = rows[0].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["x", "note", "label", "y"]);
    assert_eq!(rows[0]["note"], "row 1");
    assert_eq!(rows[0]["x"].as_f64().unwrap(), 3.913);
}

#[test]
fn integer_labels_stay_integers() {
    let dir = tempfile::tempdir().unwrap();
    let text = table(false)
        .replace(",big,", ",0,")
        .replace(",small,", ",1,");
    let input = write(dir.path(), "data.csv", &text);
    let output = dir.path().join("out.jsonl");
    run_ok(&[
        "resample",
        "--input",
        input.to_str().unwrap(),
        "--method",
        "borderline1",
        "--m-neighbors",
        "5",
        "--output",
        output.to_str().unwrap(),
    ]);
    let last: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&output)
            .unwrap()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(last["label"], 1);
    assert!(last["x"].is_f64());
}

#[test]
fn bad_input_names_the_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "data.csv", &table(true));
    let out = dir.path().join("out.csv");
    let stderr = run_err(&resample_args(&input, "smote", &out, &[]));
    assert!(
        stderr.contains("data.csv:2, field 'note': 'row 0' is not a number"),
        "{stderr}"
    );
    assert!(
        stderr.contains("random-over, random-under, tomek"),
        "{stderr}"
    );
    assert!(!out.exists());

    let broken = table(false).replace("3.25,small,", "3.25,,");
    let input = write(dir.path(), "broken.csv", &broken);
    let stderr = run_err(&resample_args(&input, "tomek", &out, &[]));
    assert!(
        stderr.contains("broken.csv:33, field 'label': the label is empty"),
        "{stderr}"
    );

    let few = write(
        dir.path(),
        "few.csv",
        "x,label\n1,a\n2,a\n3,a\n4,a\n5,b\n6,b\n",
    );
    let stderr = run_err(&resample_args(&few, "smote", &out, &[]));
    assert!(
        stderr.contains("class 'b' has 2 rows, but k_neighbors = 5 needs at least 6"),
        "{stderr}"
    );
}

#[test]
fn unknown_methods_and_strategies_are_refused_with_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "data.csv", &table(false));
    let out = dir.path().join("out.csv");
    let path = input.to_str().unwrap();
    let stderr = run_err(&[
        "resample",
        "--input",
        path,
        "--method",
        "smote2",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(
        stderr.contains("unknown resampling method 'smote2'"),
        "{stderr}"
    );
    assert!(stderr.contains("smote-tomek, smote-enn"), "{stderr}");
    let stderr = run_err(&[
        "resample",
        "--input",
        path,
        "--method",
        "random-under",
        "--sampling-strategy",
        "big=10,medium=3",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(
        stderr.contains("'medium' is not a class (the classes are: big, small)"),
        "{stderr}"
    );
    let stdout = run_ok(&[
        "resample",
        "--input",
        path,
        "--method",
        "random-under",
        "--sampling-strategy",
        "big=10",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(stdout.contains("38 rows → 18"), "{stdout}");
    let stderr = run_err(&[
        "resample",
        "--input",
        path,
        "--method",
        "tomek",
        "--output",
        "out.parquet",
    ]);
    assert!(stderr.contains("writes CSV, TSV or JSONL"), "{stderr}");
}
