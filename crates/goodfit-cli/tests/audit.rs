//! `goodfit audit` end to end on a tiny random model: the planted copies, leaks, empty
//! and foreign texts and conflicting labels are found at their lines; the folder, the
//! JSON, `issues.csv` and the cleaned copy say the same; bad inputs are refused before
//! anything is written.

#[path = "../../goodfit/tests/browser/mod.rs"]
mod browser;
mod common;

use std::path::{Path, PathBuf};

use common::{ok, refused};
use serde_json::Value;

/// 44 lines of reviews in `dir/train.jsonl` (line numbers are 1-based file lines):
/// line 41 copies line 3, lines 42 and 43 are one text under two labels, line 44 is
/// empty, line 40 is in Cyrillic; `dir/test.jsonl` has 3 rows, the second copying line 7.
fn data(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let model = dir.join("tiny");
    goodfit::model::tiny::write_tiny_bert(&model, 3).unwrap();
    let foods = [
        "tea", "cake", "bread", "soup", "coffee", "jam", "rice", "honey",
    ];
    let good = ["lovely", "fresh", "tasty", "wonderful", "great"];
    let bad = ["stale", "bland", "awful", "bitter", "soggy"];
    let mut rows: Vec<(String, &str)> = Vec::new();
    for i in 0..39 {
        let food = foods[i % foods.len()];
        let (word, label) = if i % 2 == 0 {
            (good[i % good.len()], "pos")
        } else {
            (bad[i % bad.len()], "neg")
        };
        rows.push((format!("the {food} number {i} was {word} today"), label));
    }
    rows.push(("Этот чай был очень вкусным и свежим".into(), "pos"));
    rows.push((rows[2].0.clone(), rows[2].1));
    rows.push(("the honey jar arrived broken and sticky".into(), "pos"));
    rows.push(("the honey jar arrived broken and sticky".into(), "neg"));
    rows.push(("   ".into(), "pos"));
    let line = |(text, label): &(String, &str)| {
        format!("{{\"text\": \"{text}\", \"label\": \"{label}\"}}\n")
    };
    let train = dir.join("train.jsonl");
    std::fs::write(&train, rows.iter().map(line).collect::<String>()).unwrap();
    let test_rows = [
        ("a brand new jam that tasted great".to_string(), "pos"),
        (rows[6].0.clone(), rows[6].1),
        ("the rice was bland and cold".to_string(), "neg"),
    ];
    let test = dir.join("test.jsonl");
    std::fs::write(&test, test_rows.iter().map(line).collect::<String>()).unwrap();
    (model, train, test)
}

fn findings<'a>(json: &'a Value, kind: &str) -> Vec<&'a Value> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

fn lines(found: &[&Value]) -> Vec<u64> {
    let mut l: Vec<u64> = found.iter().map(|f| f["line"].as_u64().unwrap()).collect();
    l.sort_unstable();
    l
}

#[test]
fn planted_problems_are_found_at_their_lines_and_every_output_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train, test) = data(dir.path());
    let out = dir.path().join("audit");
    let clean = dir.path().join("clean.jsonl");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let args = [
        "audit",
        "--model",
        &s(&model),
        "--data",
        &s(&train),
        "--test",
        &s(&test),
        "--out",
        &s(&out),
        "--json",
        "--folds",
        "3",
        "--repeats",
        "2",
        "--write-clean",
        &s(&clean),
        "--clean",
        "near-duplicate,outlier",
        // A random tiny model maps these short texts close together; only exact copies
        // are near-duplicates here.
        "--duplicate-threshold",
        "1",
    ];
    let output = ok(&args);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["rows"], 43, "the empty text is skipped");

    let copies = findings(&json, "near_duplicate");
    assert!(lines(&copies).contains(&41), "{copies:#?}");
    assert!(lines(&copies).contains(&43), "{copies:#?}");
    let copy = copies.iter().find(|f| f["line"] == 41).unwrap();
    assert_eq!(copy["detail"], "exact copy of line 3");
    assert_eq!(copy["related"], serde_json::json!([3]));

    let leaks = findings(&json, "leakage");
    assert_eq!(lines(&leaks), [2]);
    assert_eq!(leaks[0]["file"], "test");
    assert_eq!(leaks[0]["detail"], "exact copy of training line 7");

    let labels = findings(&json, "label");
    for conflicting in [42, 43] {
        let f = labels
            .iter()
            .find(|f| f["line"] == conflicting)
            .unwrap_or_else(|| panic!("line {conflicting} in {labels:#?}"));
        assert!(
            f["detail"]
                .as_str()
                .unwrap()
                .contains("disagree on the label"),
            "{f}"
        );
    }
    for f in &labels {
        let score = f["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score), "{f}");
        assert!(f["given"].is_string(), "{f}");
    }

    let odd = findings(&json, "outlier");
    let empty = odd
        .iter()
        .find(|f| f["line"] == 44)
        .expect("the empty text");
    assert!(empty["detail"].as_str().unwrap().starts_with("empty text"));
    let cyrillic = odd
        .iter()
        .find(|f| f["line"] == 40)
        .expect("the Cyrillic text");
    assert!(
        cyrillic["detail"].as_str().unwrap().contains("Cyrillic"),
        "{cyrillic}"
    );

    // The folder: every kind's count in audit.json, a line per audited row in issues.csv.
    let audit: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("audit.json")).unwrap()).unwrap();
    assert_eq!(audit["counts"], json["counts"]);
    assert_eq!(audit["settings"]["repeats"], 2);
    let csv = std::fs::read_to_string(out.join("issues.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 43);
    assert!(csv.starts_with("line,given,suggested,label_quality,label_issue,"));
    let row_41 = csv.lines().find(|l| l.starts_with("41,")).unwrap();
    assert!(row_41.contains(",1.000000,3,1,"), "{row_41}");
    let html = std::fs::read_to_string(out.join("audit.html")).unwrap();
    assert!(html.contains("exact copy of line 3"));
    assert_eq!(html.matches("<svg").count(), 3);
    browser::page_draws(&out.join("audit.html"));

    // The cleaned copy drops exactly the flagged training lines of the kinds asked for.
    let dropped: std::collections::BTreeSet<u64> = copies
        .iter()
        .chain(&odd)
        .filter(|f| f["file"] == "train")
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    let kept = std::fs::read_to_string(&clean).unwrap();
    assert_eq!(kept.lines().count(), 44 - dropped.len());
    assert_eq!(json["clean"]["dropped"], dropped.len());
    assert!(!kept.contains("Этот"));

    // A second audit into the folder needs --overwrite; with the features cached (twice:
    // the first run fills the cache) the findings are the same.
    let err = refused(&args);
    assert!(err.contains("already holds an audit"), "{err}");
    let mut again = args.to_vec();
    again.extend(["--overwrite"]);
    let cache = dir.path().join("cache");
    let cached = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_goodfit"))
            .env("GOODFIT_CACHE", &cache)
            .args(args)
            .output()
            .unwrap()
    };
    cached(&again);
    let second = cached(&again);
    assert!(second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("features from the cache"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let second: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(second["findings"], json["findings"]);
}

#[test]
fn bad_inputs_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train, _) = data(dir.path());
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = dir.path().join("audit");
    let base = [
        "audit",
        "--model",
        &s(&model),
        "--data",
        &s(&train),
        "--out",
        &s(&out),
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|a| a.to_string()).collect()
    };
    let refused = |args: Vec<String>| refused(&args.iter().map(String::as_str).collect::<Vec<_>>());

    let err = refused(with(&["--label-col", "stars"]));
    assert!(err.contains("stars"), "{err}");
    assert!(!out.exists());
    let err = refused(with(&["--folds", "1"]));
    assert!(err.contains("--folds 1"), "{err}");
    let err = refused(with(&["--duplicate-threshold", "1.5"]));
    assert!(err.contains("--duplicate-threshold"), "{err}");
    let err = refused(with(&["--write-clean", &s(&train)]));
    assert!(err.contains("never writes over its input"), "{err}");
    assert!(!out.exists());

    // A folder holding a training run (or anything else) is never replaced.
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("metrics.json"), "{}").unwrap();
    let err = refused(with(&["--overwrite"]));
    assert!(err.contains("not an audit's"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("metrics.json")).unwrap(),
        "{}"
    );
}

#[test]
fn train_takes_the_audit_into_its_report_and_can_leave_the_flagged_rows_out() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train, test) = data(dir.path());
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let audit_dir = dir.path().join("audit");
    let audited = ok(&[
        "audit",
        "--model",
        &s(&model),
        "--data",
        &s(&train),
        "--out",
        &s(&audit_dir),
        "--json",
        "--folds",
        "3",
        "--repeats",
        "1",
        "--duplicate-threshold",
        "1",
    ]);
    let json: Value = serde_json::from_slice(&audited.stdout).unwrap();
    let flagged = findings(&json, "label").len();
    assert!(flagged >= 2, "the conflicting pair at least");

    let run = dir.path().join("run");
    let train_args = |extra: &[&str]| -> Vec<String> {
        [
            "train",
            "--model",
            &s(&model),
            "--train",
            &s(&train),
            "--test",
            &s(&test),
            "--out",
            &s(&run),
            "--epochs",
            "1",
            "--train-layers",
            "0",
            "--overwrite",
        ]
        .iter()
        .chain(extra)
        .map(|a| a.to_string())
        .collect()
    };

    // Refused before anything is written: --drop-flagged alone, an audit of another file.
    let err = refused(&strs(&train_args(&["--drop-flagged"])));
    assert!(err.contains("--audit"), "{err}");
    let other = dir.path().join("other.jsonl");
    std::fs::copy(&train, &other).unwrap();
    let mut elsewhere = train_args(&["--audit", &s(&audit_dir)]);
    elsewhere[4] = s(&other);
    let err = refused(&strs(&elsewhere));
    assert!(err.contains("not the training file"), "{err}");
    assert!(!run.exists());

    let output = ok(&strs(&train_args(&[
        "--audit",
        &s(&audit_dir),
        "--drop-flagged",
    ])));
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("training rows the audit flags"), "{log}");
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("data_audit.json")).unwrap())
            .unwrap();
    assert_eq!(summary["label"], flagged);
    assert_eq!(summary["dropped"], flagged);
    let classes = summary["classes"].as_array().unwrap();
    assert_eq!(
        classes
            .iter()
            .map(|c| c["rows"].as_u64().unwrap())
            .sum::<u64>(),
        43
    );
    let data: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("data.json")).unwrap()).unwrap();
    let trained: u64 = data["training_split"]["class_counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    let split_rows = 43 - 4; // the 4 validation rows stay
    assert!(
        trained < split_rows,
        "{trained} rows trained, none left out"
    );
    let report = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(report.contains("probably mislabelled"));
    assert!(report.contains("left out of training"));
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("drop_flagged = true"), "{config}");

    // The fine-tuned run's predictions of its validation rows join a new audit's.
    let again = ok(&[
        "audit",
        "--model",
        &s(&model),
        "--data",
        &s(&train),
        "--run",
        &s(&run),
        "--json",
        "--folds",
        "3",
        "--repeats",
        "1",
        "--duplicate-threshold",
        "1",
    ]);
    let json: Value = serde_json::from_slice(&again.stdout).unwrap();
    let how = json["probe"]["how"].as_str().unwrap();
    let predictions: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("predictions_val.json")).unwrap())
            .unwrap();
    let validation_rows = predictions["y_true"].as_array().unwrap().len();
    assert!(validation_rows >= 4);
    assert!(
        how.contains(&format!("for {validation_rows} rows, averaged")),
        "{how}"
    );
    let err = refused(&[
        "audit",
        "--model",
        &s(&model),
        "--data",
        &s(&other),
        "--run",
        &s(&run),
    ]);
    assert!(err.contains("it was trained on"), "{err}");

    // A search given the audit tries its best fine-tune without the flagged rows.
    let search = dir.path().join("search");
    ok(&[
        "train",
        "--auto",
        "--model",
        &s(&model),
        "--train",
        &s(&train),
        "--out",
        &s(&search),
        "--audit",
        &s(&audit_dir),
        "--max-trials",
        "8",
        "--epochs",
        "1",
        "--quiet",
    ]);
    let trials = std::fs::read_to_string(search.join("trials.jsonl")).unwrap();
    let dropped: Vec<Value> = trials
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|t| t["name"] == "drop-flagged")
        .collect();
    assert_eq!(dropped.len(), 1, "{trials}");
    assert!(dropped[0]["why"]
        .as_str()
        .unwrap()
        .contains("probably mislabelled"));
    let folder = search.join(dropped[0]["run_dir"].as_str().unwrap());
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("data_audit.json")).unwrap())
            .unwrap();
    assert_eq!(summary["dropped"], flagged);
}

#[test]
fn a_cross_validated_run_gives_the_audit_every_row_out_of_fold() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train, test) = data(dir.path());
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let run = dir.path().join("cv");
    let trained = ok(&[
        "train",
        "--model",
        &s(&model),
        "--train",
        &s(&train),
        "--test",
        &s(&test),
        "--out",
        &s(&run),
        "--cv-folds",
        "3",
        "--epochs",
        "1",
        "--train-layers",
        "1",
        "--quiet",
    ]);
    let stdout = String::from_utf8_lossy(&trained.stdout);
    assert!(stdout.contains("out of fold"), "{stdout}");
    // Every row predicted by the fold model that did not train on it; the fold models'
    // average predicts, and scored the test file.
    let read = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(run.join(name)).unwrap()).unwrap()
    };
    let rows = read("predictions_val.json")["y_true"]
        .as_array()
        .unwrap()
        .len();
    // Line 44 is empty, so not a training row.
    assert_eq!(rows, 43);
    assert_eq!(
        read("ensemble.json")["members"].as_array().unwrap().len(),
        3
    );
    assert_eq!(
        read("metrics.json")["cross_validation"]["per_fold"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        read("predictions_test.json")["y_true"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert!(read("metrics.json")["test"]["f1_macro"].is_f64());
    // The test file was scored by what `predict` uses: the fold models' average.
    let predicted = dir.path().join("predicted.jsonl");
    ok(&[
        "predict",
        "--run",
        &s(&run),
        "--input",
        &s(&test),
        "--output",
        &s(&predicted),
        "--quiet",
    ]);
    let scored = read("predictions_test.json");
    let labels = scored["labels"].as_array().unwrap();
    for (line, proba) in std::fs::read_to_string(&predicted)
        .unwrap()
        .lines()
        .zip(scored["proba"].as_array().unwrap())
    {
        let row: Value = serde_json::from_str(line).unwrap();
        for (label, p) in labels.iter().zip(proba.as_array().unwrap()) {
            let column = format!("prob_{}", label.as_str().unwrap());
            assert!(
                (row[&column].as_f64().unwrap() - p.as_f64().unwrap()).abs() < 1e-9,
                "{column}: {row} against {p}"
            );
        }
    }

    // The audit of the training file with the run's out-of-fold predictions, and `extra`.
    let audit = |extra: &[&str]| -> Vec<String> {
        let base = [
            "audit",
            "--model",
            &s(&model),
            "--data",
            &s(&train),
            "--run",
            &s(&run),
            "--folds",
            "3",
            "--repeats",
            "1",
        ]
        .map(String::from);
        base.into_iter()
            .chain(extra.iter().map(|a| a.to_string()))
            .collect()
    };
    let json: Value =
        serde_json::from_slice(&ok(&strs(&audit(&["--run-weight", "1", "--json"]))).stdout)
            .unwrap();
    let how = json["probe"]["how"].as_str().unwrap();
    assert!(how.contains("for 43 rows, averaged"), "{how}");
    assert!(how.contains("(weight 1)"), "{how}");
    // --label-min-score 0 relabels every label issue (the default fix) and keeps every row.
    let relabelled = dir.path().join("relabelled.jsonl");
    let with_relabel = audit(&[
        "--json",
        "--write-clean",
        &s(&relabelled),
        "--label-min-score",
        "0",
    ]);
    let fixed: Value = serde_json::from_slice(&ok(&strs(&with_relabel)).stdout).unwrap();
    let issues = findings(&fixed, "label");
    assert!(!issues.is_empty());
    assert_eq!(fixed["clean"]["dropped"], 0);
    assert_eq!(fixed["clean"]["relabelled"], issues.len());
    let jsonl = |path: &Path| -> Vec<Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let original = jsonl(&train);
    let written = jsonl(&relabelled);
    assert_eq!(written.len(), original.len());
    for (i, (was, now)) in original.iter().zip(&written).enumerate() {
        assert_eq!(was["text"], now["text"]);
        let issue = issues.iter().find(|f| f["line"] == i as u64 + 1);
        match issue {
            Some(f) => assert_eq!(now["label"], f["suggested"], "line {}", i + 1),
            None => assert_eq!(now["label"], was["label"], "line {}", i + 1),
        }
    }
    // From a minimum score between the issues' scores, the surer ones are fixed (here
    // dropped) and the others stay as given.
    let mut scores: Vec<f64> = issues
        .iter()
        .map(|f| f["score"].as_f64().unwrap())
        .collect();
    scores.sort_by(f64::total_cmp);
    assert!(scores[0] < scores[scores.len() - 1], "{scores:?}");
    let cut = (scores[0] + scores[scores.len() - 1]) / 2.0;
    let sure: Vec<u64> = issues
        .iter()
        .filter(|f| f["score"].as_f64().unwrap() >= cut)
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    let dropped = dir.path().join("dropped.jsonl");
    let with_drop = audit(&[
        "--json",
        "--write-clean",
        &s(&dropped),
        "--label-fix",
        "drop",
        "--label-min-score",
        &cut.to_string(),
    ]);
    let fixed: Value = serde_json::from_slice(&ok(&strs(&with_drop)).stdout).unwrap();
    assert_eq!(fixed["clean"]["dropped"], sure.len());
    assert_eq!(fixed["clean"]["relabelled"], 0);
    assert_eq!(fixed["clean"]["kept_as_given"], issues.len() - sure.len());
    let kept: Vec<&Value> = original
        .iter()
        .enumerate()
        .filter(|(i, _)| !sure.contains(&(*i as u64 + 1)))
        .map(|(_, row)| row)
        .collect();
    let written = jsonl(&dropped);
    assert_eq!(written.iter().collect::<Vec<_>>(), kept);
    let err = refused(&strs(&audit(&["--label-fix", "drop"])));
    assert!(err.contains("--write-clean"), "{err}");
    let err = refused(&strs(&audit(&["--run-weight", "1.5"])));
    assert!(err.contains("--run-weight 1.5"), "{err}");
    // Resuming is for one run; a cross-validation starts again.
    let err = refused(&["train", "--resume", &s(&run), "--cv-folds", "3"]);
    assert!(err.contains("cannot be combined with --cv-folds"), "{err}");
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}
