//! The HTML report: every section from a full run folder, fewer from a bare one, errors that
//! name the missing file, escaping of text from the files, and — in a headless Chromium
//! when one is installed — a page that loads cleanly with something drawn in every chart.

mod browser;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use browser::{assert_charts_drawn, chromium, console_problems, drawn_per_svg, find_chromium};
use goodfit::report::{learning_curve_svg, write_report};
use goodfit::Error;
use serde_json::{json, Value};

/// The hand-made two-class run (see its make_fixture.py).
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/report_run")
}

/// A copy of the fixture run holding only `files` (all of them for `None`): reports are
/// never written into the fixture itself.
fn copy_fixture(files: Option<&[&str]>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixture()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        if name == "report.html" || files.is_some_and(|f| !f.contains(&name.as_str())) {
            continue;
        }
        fs::copy(&path, dir.path().join(&name)).unwrap();
    }
    dir
}

const REQUIRED: [&str; 3] = ["history.jsonl", "metrics.json", "config.toml"];

fn sections(html: &str) -> Vec<String> {
    html.match_indices("<section id=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_string()
        })
        .collect()
}

#[test]
fn the_full_run_has_every_section_and_chart() {
    let run = copy_fixture(None);
    let path = write_report(run.path()).unwrap();
    assert_eq!(path, run.path().join("report.html"));
    assert!(
        !fixture().join("report.html").exists(),
        "never write into the fixture"
    );
    let html = fs::read_to_string(&path).unwrap();
    assert_eq!(
        sections(&html),
        [
            "diagnosis",
            "curves",
            "learning",
            "results",
            "probabilities",
            "data",
            "weights",
            "settings"
        ]
    );
    // Class distribution, loss, metrics, regularisation, learning curve, 2 confusion,
    // 2 per-class, 2 PR, 2 reliability, drift, update ratio, histograms.
    let charts = html.matches("<svg").count();
    assert!(charts >= 16, "{charts} charts");
    assert_eq!(charts, html.matches("</svg>").count());
    assert_eq!(
        html.matches("<figure").count(),
        html.matches("<figcaption>").count()
    );
    // The headline numbers: val macro-F1 0.8180765…, test 0.8366703…, best epoch 4 of 6.
    for expected in [
        "0.8181",
        "0.8367",
        ">4<",
        "of 6 run",
        "after epoch 6",
        "best · epoch 4",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    for expected in [
        "L1 term",
        "½·λ‖θ‖² (decoupled weight decay",
        "Overfitting",
        "<code>--weight-decay 0.1 --dropout 0.2</code>",
        "leakage: 7 of 1000 test rows",
        "Precision-recall, validation",
        "Reliability, test",
        "encoder.layer.5",
        "models/all-MiniLM-L6-v2",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }
    // Self-contained: no scripts, nothing to fetch.
    for banned in ["<script", "<link", "@import", "url(", "src=", "<img"] {
        assert!(!html.contains(banned), "found {banned:?}");
    }
    let without_svg_namespace = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !without_svg_namespace.contains("http://") && !without_svg_namespace.contains("https://")
    );
    assert!(!run.path().join("report.html.tmp").exists());
}

#[test]
fn a_bare_run_still_renders_with_fewer_sections() {
    let run = copy_fixture(Some(&REQUIRED));
    let html = fs::read_to_string(write_report(run.path()).unwrap()).unwrap();
    assert_eq!(sections(&html), ["curves", "results", "settings"]);
    assert!(html.matches("<svg").count() >= 5);
    assert!(!html.contains("class=\"headline\""));

    // Writing again replaces the report.
    let again = write_report(run.path()).unwrap();
    assert_eq!(fs::read_to_string(again).unwrap(), html);
}

#[test]
fn missing_or_broken_required_files_are_errors_naming_them() {
    for missing in REQUIRED {
        let keep: Vec<&str> = REQUIRED.iter().copied().filter(|f| *f != missing).collect();
        let run = copy_fixture(Some(&keep));
        let err = write_report(run.path()).unwrap_err();
        assert!(matches!(err, Error::Input { .. }), "{err:?}");
        assert!(err.to_string().contains(missing), "{err}");
        assert!(!run.path().join("report.html").exists());
    }

    let run = copy_fixture(Some(&REQUIRED));
    let history = run.path().join("history.jsonl");
    let mut text = fs::read_to_string(&history).unwrap();
    text.push_str("{\"epoch\": 7, \"train_loss\": \n");
    fs::write(&history, text).unwrap();
    let err = write_report(run.path()).unwrap_err().to_string();
    assert!(err.contains("history.jsonl:7"), "{err}");

    fs::write(&history, "").unwrap();
    let err = write_report(run.path()).unwrap_err().to_string();
    assert!(
        err.contains("history.jsonl") && err.contains("no epochs"),
        "{err}"
    );

    let run = copy_fixture(Some(&REQUIRED));
    fs::write(run.path().join("metrics.json"), "[1, 2]").unwrap();
    let err = write_report(run.path()).unwrap_err().to_string();
    assert!(err.contains("metrics.json"), "{err}");

    let run = copy_fixture(Some(&REQUIRED));
    fs::write(run.path().join("config.toml"), "epochs = 3\nlr = = 1\n").unwrap();
    let err = write_report(run.path()).unwrap_err().to_string();
    assert!(err.contains("config.toml:2"), "{err}");
}

#[test]
fn a_broken_optional_file_is_a_notice_not_a_failure() {
    let run = copy_fixture(None);
    fs::write(run.path().join("weights.json"), "{\"layers\": [").unwrap();
    fs::write(
        run.path().join("predictions_test.json"),
        r#"{"labels": ["great", "other"], "y_true": [0, 5], "proba": [[0.5, 0.5], [0.1, 0.9]]}"#,
    )
    .unwrap();
    let html = fs::read_to_string(write_report(run.path()).unwrap()).unwrap();
    assert!(html.contains("weights.json: not valid JSON"));
    assert!(html.contains("predictions_test.json: y_true[1] is not a class index below 2"));
    assert!(html.contains("Precision-recall, validation"));
}

#[test]
fn a_learning_curve_adds_its_section_and_one_chart() {
    let without = copy_fixture(Some(&REQUIRED));
    let bare = fs::read_to_string(write_report(without.path()).unwrap()).unwrap();
    let with = copy_fixture(Some(&[
        REQUIRED[0],
        REQUIRED[1],
        REQUIRED[2],
        "learning_curve.json",
    ]));
    let html = fs::read_to_string(write_report(with.path()).unwrap()).unwrap();
    assert_eq!(
        sections(&html),
        ["curves", "learning", "results", "settings"]
    );
    assert_eq!(
        html.matches("<svg").count(),
        bare.matches("<svg").count() + 1
    );
    for expected in [
        "<h2>Learning curve</h2>",
        "aria-label=\"Learning curve: macro-F1 by training set size\"",
        "training rows",
        // The conclusion, as a sentence.
        "The validation curve has flattened (+0.003 f1_macro",
        "<td class=\"n\">3,600</td>",
    ] {
        assert!(html.contains(expected), "missing {expected:?}");
    }

    // An unusable file is a notice in its section.
    fs::write(with.path().join("learning_curve.json"), "{\"points\": 3}").unwrap();
    let html = fs::read_to_string(write_report(with.path()).unwrap()).unwrap();
    assert!(html.contains("learning_curve.json: no &#39;points&#39; array"));
    assert_eq!(html.matches("<svg").count(), bare.matches("<svg").count());
    fs::write(with.path().join("learning_curve.json"), "{").unwrap();
    let html = fs::read_to_string(write_report(with.path()).unwrap()).unwrap();
    assert!(html.contains("learning_curve.json: not valid JSON"));
}

#[test]
fn learning_curve_svg_draws_both_lines_with_markers() {
    let curve = json!({
        "metric": "accuracy",
        "points": [
            {"fraction": 0.25, "rows": 250, "train_score": 0.95, "val_score": 0.70, "val_loss": 0.6, "seconds": 1.0},
            {"fraction": 0.5, "rows": 500, "train_score": 0.92, "val_score": 0.76, "val_loss": 0.5, "seconds": 2.0},
            {"fraction": 1.0, "rows": 1000, "train_score": null, "val_score": 0.80, "val_loss": 0.45, "seconds": 4.0}
        ],
        "final_slope": 0.008, "gap_trend": null, "more_data_helps": true,
        "conclusion": "more data is likely to help"
    });
    let svg = learning_curve_svg(&curve).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(svg.contains("accuracy") && svg.contains("training rows"));
    // Validation: one solid line in blue; training: a dashed line in orange; dots at the
    // 3 + 2 defined points (each a filled and an outlined circle).
    assert!(svg.contains("<polyline") && svg.contains("#4E79A7"));
    assert!(svg.contains("#F28E2B"));
    assert_eq!(svg.matches("<circle").count(), 2 * (3 + 2));
    assert!(learning_curve_svg(&json!({"metric": "accuracy"})).is_err());
}

/// Writes a three-class run whose labels need escaping, with undefined values, a monitored
/// metric, no regularisation and prediction files.
fn three_class_run(dir: &Path) {
    let labels = ["<b>&\"x\"", "neutral", "o'neg"];
    let metrics = |scale: f64| {
        let mut m = serde_json::Map::new();
        for key in goodfit::metrics::SCALAR_METRICS {
            m.insert(key.into(), json!(0.6 * scale));
        }
        m.insert("roc_auc".into(), Value::Null);
        m.insert("brier".into(), Value::Null);
        m
    };
    let mut history = String::new();
    for epoch in 1..=4 {
        let s = 0.8 + 0.05 * epoch as f64;
        let mut record = serde_json::Map::new();
        record.insert("epoch".into(), json!(epoch));
        record.insert("step".into(), json!(40 * epoch));
        record.insert("lr".into(), json!(2e-5));
        record.insert("train_loss".into(), json!(1.1 - 0.2 * epoch as f64));
        record.insert("penalty".into(), json!(0.0));
        record.insert("l2_term".into(), Value::Null);
        // Epoch 3's validation loss is undefined: the line breaks there.
        record.insert(
            "val_loss".into(),
            if epoch == 3 {
                Value::Null
            } else {
                json!(1.0 - 0.1 * epoch as f64)
            },
        );
        for (k, v) in metrics(s) {
            record.insert(format!("train_{k}"), v.clone());
            record.insert(format!("val_{k}"), v);
        }
        record.insert("seconds".into(), json!(12.5));
        history.push_str(&Value::Object(record).to_string());
        history.push('\n');
    }
    fs::write(dir.join("history.jsonl"), history).unwrap();

    let mut val = metrics(1.2);
    val.insert("labels".into(), json!(labels));
    val.insert(
        "confusion_matrix".into(),
        json!([[30, 5, 5], [4, 20, 6], [0, 0, 0]]),
    );
    let per_class: serde_json::Map<String, Value> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let f = if i == 2 { Value::Null } else { json!(0.7) };
            (
                l.to_string(),
                json!({"precision": f, "recall": 0.75, "f1": 0.72, "support": 40 - 10 * i}),
            )
        })
        .collect();
    val.insert("per_class".into(), Value::Object(per_class));
    let summary = json!({
        "best_epoch": 4, "epochs_run": 4, "stopped_early": false, "monitor": "val_f1_macro",
        "seconds": 3725.0, "val_loss": 0.6, "val": val,
    });
    fs::write(dir.join("metrics.json"), summary.to_string()).unwrap();
    fs::write(
        dir.join("config.toml"),
        "model = \"models/<tiny>\"\ntrain = \"a&b.csv\"\nepochs = 4\nlr = 2e-5\n\
         weight_decay = 0.0\nl1 = 0.0\nmonitor = \"val_f1_macro\"\n",
    )
    .unwrap();

    let (mut y_true, mut proba) = (Vec::new(), Vec::new());
    for i in 0..90usize {
        let y = i % 3;
        let mut row = [0.2, 0.2, 0.2];
        row[y] += 0.15 + (i % 7) as f64 * 0.05;
        row[(y + 1 + i % 2) % 3] += 0.1 * (i % 4) as f64;
        let total: f64 = row.iter().sum();
        y_true.push(y);
        proba.push(row.iter().map(|p| p / total).collect::<Vec<f64>>());
    }
    fs::write(
        dir.join("predictions_val.json"),
        json!({"labels": labels, "y_true": y_true, "proba": proba}).to_string(),
    )
    .unwrap();
    fs::write(
        dir.join("data.json"),
        json!({
            "rows": 300, "kind": "text",
            "classes": labels.iter().map(|l| json!({"label": l, "count": 100, "share": 1.0 / 3.0})).collect::<Vec<_>>(),
            "imbalance_ratio": 1.0,
            "lengths": {"unit": "tokens", "min": 3, "p25": 10, "median": 20, "p75": 30, "p90": 40,
                        "p95": 50, "p99": 90, "max": 300, "mean": 22.5,
                        "over": [{"limit": 128, "share": 0.02}, {"limit": 256, "share": 0.003}]},
            "duplicates": {"groups": 0, "extra_rows": 0, "conflicting_groups": 0, "examples": []},
            "test": null,
            "warnings": ["label <b>&\"x\"</b> looks odd"]
        })
        .to_string(),
    )
    .unwrap();
    fs::write(
        dir.join("diagnosis.json"),
        json!({"verdicts": [
            {"kind": "mystery<script>", "severity": "extreme", "summary": "a <i>new</i> kind",
             "evidence": [1, 2.5, null], "remedies": [{"flags": "--x '<y>'", "why": "because & so"}]},
            {"kind": "good_fit", "severity": "low", "summary": "fine", "evidence": null, "remedies": []}
        ]})
        .to_string(),
    )
    .unwrap();
}

#[test]
fn a_three_class_run_escapes_text_from_its_files() {
    let run = tempfile::tempdir().unwrap();
    three_class_run(run.path());
    let html = fs::read_to_string(write_report(run.path()).unwrap()).unwrap();
    assert_eq!(
        sections(&html),
        [
            "diagnosis",
            "curves",
            "results",
            "probabilities",
            "data",
            "settings"
        ]
    );
    for raw in [
        "<b>&", "\"x\"", "<i>new", "<script", "<tiny>", "a&b", "'<y>'", "o'neg",
    ] {
        assert!(!html.contains(raw), "unescaped {raw:?}");
    }
    assert!(html.contains("&lt;b&gt;&amp;&quot;x&quot;"));
    assert!(html.contains("o&#39;neg"));
    assert!(html.contains("<code>--x &#39;&lt;y&gt;&#39;</code>"));
    // Unknown kinds and severities never reach a class attribute.
    assert!(html.contains("class=\"badge other\""));
    assert!(!html.contains("class=\"badge mystery"));
    assert!(html.contains("mystery&lt;script&gt;"));
    // Undefined values show as a dash; no regularisation figure without l1 or weight decay.
    assert!(html.contains("<td class=\"n\">—</td>"));
    assert!(!html.contains("L1 term"));
    // One-vs-rest curves, one per class present; the monitored metric is followed.
    assert!(html.contains("one class against the rest"));
    assert!(html.contains("Early stopping watched <b>macro-F1</b>"));
    assert!(html.contains(">1 h 2 min<") && html.contains(">1 h<"));
}

#[test]
fn the_browser_checks_tell_data_from_axes_and_catch_console_errors() {
    let dom = r##"<svg><line x1="0" y1="0" x2="9" y2="0" stroke="#8A8A8A"></line>
        <rect x="0" y="0" width="500" height="300" fill="#FFFFFF"></rect></svg>
        <svg><rect x="1" y="2" width="0" height="5" fill="#4E79A7"></rect>
        <polyline points="3,4 3,4" stroke="#F28E2B"></polyline></svg>
        <svg><polyline fill="none" points="1,2 5,6" stroke="#4E79A7"></polyline></svg>"##;
    assert_eq!(drawn_per_svg(dom), [(2, 0), (0, 0), (1, 1)]);
    let log = "[1:1:1129/184018.076045:WARNING:ui/base/idle/idle_linux.cc:111] None of the known\n\
               [1:1:1129/184018.577431:INFO:CONSOLE:2927] \"Uncaught ReferenceError: f is not \
               defined\", source: file:///tmp/x/report.html (2927)";
    assert_eq!(console_problems(log).len(), 1);
}

#[test]
fn the_report_loads_in_a_headless_browser_with_every_chart_drawn() {
    let Some(binary) = find_chromium() else {
        if std::env::var("GOODFIT_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
            panic!("GOODFIT_REQUIRE_CHROMIUM=1 but no chromium, chromium-browser or google-chrome on PATH");
        }
        eprintln!(
            "skipped: no chromium (install it, e.g. `apt-get install chromium`, to run this test)"
        );
        return;
    };
    let started = Instant::now();
    let run = copy_fixture(None);
    let page = write_report(run.path()).unwrap();
    let svgs_in_file = fs::read_to_string(&page).unwrap().matches("<svg").count();

    let (dom, log) = chromium(&binary, &page, &["--dump-dom".to_string()]);
    assert!(
        dom.contains("<section id=\"settings\""),
        "the page did not load:\n{log}"
    );
    assert_charts_drawn(&dom, &log, svgs_in_file);

    let shot = std::env::temp_dir().join("goodfit-report.png");
    let _ = fs::remove_file(&shot);
    chromium(
        &binary,
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1200,4000".to_string(),
            "--hide-scrollbars".to_string(),
        ],
    );
    let png = fs::read(&shot).expect("no screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "{} bytes",
        png.len()
    );
    eprintln!(
        "headless chromium: {} charts drawn, screenshot at {}, {:.1} s",
        svgs_in_file,
        shot.display(),
        started.elapsed().as_secs_f64()
    );
}
