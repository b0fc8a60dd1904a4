//! Each verdict produced on purpose on a tiny random BERT: overfitting, underfitting,
//! imbalance bias and a good fit. The diagnosis must name each, and only the right ones.

use std::path::{Path, PathBuf};

use goodfit::diagnose::VerdictKind;
use goodfit::model::tiny::write_tiny_bert;
use goodfit::model::TrainLayers;
use goodfit::pipeline::{train, Reported};
use goodfit::train::{Silent, TrainConfig};

const GOOD: [&str; 5] = ["good", "great", "tasty", "fresh", "lovely"];
const BAD: [&str; 5] = ["bad", "awful", "stale", "bland", "terrible"];
const FOOD: [&str; 5] = ["tea", "coffee", "cake", "soup", "bread"];

/// `n` reviews of one class: "the <food> was <word>" over the class's words.
fn reviews(words: &[&str], n: usize, offset: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "the {} was {}",
                FOOD[(i + offset) % 5],
                words[(i / 5 + i + offset) % words.len()]
            )
        })
        .collect()
}

fn write_csv(path: &Path, rows: &[(String, &str)]) {
    let mut text = String::from("text,label\n");
    for (t, l) in rows {
        text += &format!("{t},{l}\n");
    }
    std::fs::write(path, text).unwrap();
}

struct Scenario {
    dir: tempfile::TempDir,
    model: PathBuf,
}

impl Scenario {
    fn new() -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("tiny");
        write_tiny_bert(&model, 11).unwrap();
        Scenario { dir, model }
    }

    fn run(
        &self,
        train_rows: &[(String, &str)],
        val_rows: &[(String, &str)],
        adjust: impl FnOnce(&mut TrainConfig),
    ) -> Reported {
        let train_path = self.dir.path().join("train.csv");
        let val_path = self.dir.path().join("val.csv");
        write_csv(&train_path, train_rows);
        write_csv(&val_path, val_rows);
        let mut config = TrainConfig {
            model: self.model.to_string_lossy().into_owned(),
            train: train_path,
            val: Some(val_path),
            out: self.dir.path().join("run"),
            batch_size: 8,
            quiet: true,
            // Each scenario trains several runs into one folder.
            overwrite: true,
            ..TrainConfig::default()
        };
        adjust(&mut config);
        train(&config, false, &Silent).unwrap()
    }
}

fn labelled(texts: Vec<String>, label: &str) -> Vec<(String, &str)> {
    texts.into_iter().map(|t| (t, label)).collect()
}

fn kinds(result: &Reported) -> Vec<VerdictKind> {
    result.diagnosis.verdicts.iter().map(|v| v.kind).collect()
}

#[test]
fn overfitting_few_examples_many_epochs_no_regularisation() {
    let s = Scenario::new();
    let mut train_rows = labelled(reviews(&GOOD, 8, 0), "pos");
    train_rows.extend(labelled(reviews(&BAD, 8, 0), "neg"));
    // Validation labels that the training texts do not predict: memorising the training set
    // makes the model confidently wrong there, so validation loss turns up.
    let mut val_rows = labelled(reviews(&GOOD, 4, 2), "neg");
    val_rows.extend(labelled(reviews(&BAD, 4, 2), "pos"));
    let result = s.run(&train_rows, &val_rows, |c| {
        c.epochs = 25;
        c.train_layers = TrainLayers::All;
        c.weight_decay = 0.0;
        c.dropout = Some(0.0);
        c.lr = 1e-3;
        c.head_lr = 1e-2;
        c.patience = 0;
        c.warmup = "0".parse().unwrap();
    });
    assert!(
        result.diagnosis.has(VerdictKind::Overfitting),
        "{}",
        result.diagnosis
    );
    let verdict = result
        .diagnosis
        .verdicts
        .iter()
        .find(|v| v.kind == VerdictKind::Overfitting)
        .unwrap();
    assert!(
        verdict
            .remedies
            .iter()
            .any(|r| r.flags.contains("--train-layers 2")),
        "{verdict:?}"
    );
    assert!(verdict.evidence["val_loss_rise"].as_f64().unwrap() > 0.05);
}

#[test]
fn underfitting_with_a_tiny_learning_rate_and_heavy_decay() {
    let s = Scenario::new();
    let mut train_rows = labelled(reviews(&GOOD, 20, 0), "pos");
    train_rows.extend(labelled(reviews(&BAD, 20, 0), "neg"));
    let mut val_rows = labelled(reviews(&GOOD, 6, 1), "pos");
    val_rows.extend(labelled(reviews(&BAD, 6, 1), "neg"));
    let result = s.run(&train_rows, &val_rows, |c| {
        c.epochs = 4;
        c.train_layers = TrainLayers::Top(0);
        c.lr = 1e-7;
        c.head_lr = 1e-7;
        c.weight_decay = 1.0;
    });
    assert_eq!(
        kinds(&result),
        [VerdictKind::Underfitting],
        "{}",
        result.diagnosis
    );
    let verdict = &result.diagnosis.verdicts[0];
    assert!(verdict.remedies[0].flags.starts_with("--lr"), "{verdict:?}");
    assert!(verdict.evidence["prior_loss"].as_f64().unwrap() > 0.69);
}

#[test]
fn imbalance_bias_at_one_to_thirty_without_remedy() {
    let s = Scenario::new();
    let mut train_rows = labelled(reviews(&GOOD, 60, 0), "pos");
    train_rows.extend(labelled(reviews(&BAD, 2, 0), "neg"));
    let mut val_rows = labelled(reviews(&GOOD, 30, 1), "pos");
    val_rows.extend(labelled(reviews(&BAD, 4, 1), "neg"));
    let result = s.run(&train_rows, &val_rows, |c| {
        c.epochs = 3;
        c.train_layers = TrainLayers::Top(1);
    });
    assert!(
        result.diagnosis.has(VerdictKind::ImbalanceBias),
        "{}",
        result.diagnosis
    );
    let verdict = result
        .diagnosis
        .verdicts
        .iter()
        .find(|v| v.kind == VerdictKind::ImbalanceBias)
        .unwrap();
    assert_eq!(verdict.evidence["minority_class"], "neg");
    assert!(verdict.evidence["imbalance_ratio"].as_f64().unwrap() >= 30.0);
}

#[test]
fn a_good_fit_is_called_a_good_fit() {
    let s = Scenario::new();
    let mut train_rows = labelled(reviews(&GOOD, 40, 0), "pos");
    train_rows.extend(labelled(reviews(&BAD, 40, 0), "neg"));
    let mut val_rows = labelled(reviews(&GOOD, 10, 3), "pos");
    val_rows.extend(labelled(reviews(&BAD, 10, 3), "neg"));
    let result = s.run(&train_rows, &val_rows, |c| {
        c.epochs = 8;
        c.train_layers = TrainLayers::Top(1);
        c.lr = 1e-3;
        c.head_lr = 1e-2;
        c.label_smoothing = 0.2;
    });
    assert_eq!(
        kinds(&result),
        [VerdictKind::GoodFit],
        "{}",
        result.diagnosis
    );
    assert!(
        result.val.f1_macro >= 0.85,
        "it learned: {}",
        result.val.f1_macro
    );
}

#[test]
fn imbalance_remedies_are_offered_and_each_one_trains() {
    let s = Scenario::new();
    let mut train_rows = labelled(reviews(&GOOD, 60, 0), "pos");
    train_rows.extend(labelled(reviews(&BAD, 4, 0), "neg"));
    let mut val_rows = labelled(reviews(&GOOD, 30, 1), "pos");
    val_rows.extend(labelled(reviews(&BAD, 6, 1), "neg"));
    let plain = s.run(&train_rows, &val_rows, |c| {
        c.epochs = 3;
        c.train_layers = TrainLayers::Top(1);
    });
    let verdict = plain
        .diagnosis
        .verdicts
        .iter()
        .find(|v| v.kind == VerdictKind::ImbalanceBias);
    let flags: Vec<&str> = verdict
        .expect("biased without a remedy")
        .remedies
        .iter()
        .map(|r| r.flags.as_str())
        .collect();
    assert_eq!(
        flags[..2],
        ["--class-weight balanced", "--sampler balanced"],
        "{flags:?}"
    );
    // Every remedy runs, and with class weights and a balanced sampler together the
    // minority class is no longer ignored.
    for (class_weight, loss, sampler) in [
        ("balanced", "ce", "random"),
        ("none", "focal", "random"),
        ("none", "logit-adjusted", "random"),
        ("sqrt", "ce", "sqrt"),
        ("effective:0.99", "ce", "random"),
    ] {
        let result = s.run(&train_rows, &val_rows, |c| {
            c.epochs = 3;
            c.train_layers = TrainLayers::Top(1);
            c.class_weight = class_weight.parse().unwrap();
            c.loss = loss.parse().unwrap();
            c.sampler = sampler.parse().unwrap();
        });
        assert!(
            result.val_loss.is_finite(),
            "{class_weight} {loss} {sampler}"
        );
    }
    let remedied = s.run(&train_rows, &val_rows, |c| {
        c.epochs = 6;
        c.train_layers = TrainLayers::Top(1);
        c.lr = 1e-3;
        c.head_lr = 1e-2;
        c.class_weight = "balanced".parse().unwrap();
        c.sampler = "balanced".parse().unwrap();
    });
    let minority_recall = remedied.val.per_class[0].recall;
    let plain_recall = plain.val.per_class[0].recall;
    assert!(
        minority_recall > plain_recall,
        "minority recall {plain_recall} → {minority_recall}"
    );
}

#[test]
fn tuned_cutoffs_and_posthoc_adjustment_are_saved_and_reproduced_by_the_saved_model() {
    use goodfit::decision::{predict_all, DecisionRule};
    use goodfit::model::SavedClassifier;
    use goodfit::train::evaluate::{predict_texts, softmax};

    let s = Scenario::new();
    let mut train_rows = labelled(reviews(&GOOD, 60, 0), "pos");
    train_rows.extend(labelled(reviews(&BAD, 4, 0), "neg"));
    let mut val_rows = labelled(reviews(&GOOD, 30, 1), "pos");
    val_rows.extend(labelled(reviews(&BAD, 6, 1), "neg"));
    let tuned = s.run(&train_rows, &val_rows, |c| {
        c.epochs = 3;
        c.train_layers = TrainLayers::Top(1);
        c.tune_threshold = Some("balanced_accuracy".parse().unwrap());
    });
    let run = s.dir.path().join("run");
    let metrics: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap()).unwrap();
    let decision = &metrics["decision"];
    let (before, after) = (
        decision["val_before"].as_f64().unwrap(),
        decision["val_after"].as_f64().unwrap(),
    );
    // The search can only keep or improve the objective, and the reported validation
    // metrics are the rule's.
    assert!(after >= before, "{before} → {after}");
    assert!((tuned.val.balanced_accuracy.unwrap() - after).abs() < 1e-12);
    assert_eq!(decision["rule"]["kind"], "cutoff");
    // "neg" is the rarer class: the cut-off is on it (class index 0, labels sorted).
    assert_eq!(decision["rule"]["positive"], 0);
    assert!(tuned
        .decision
        .as_deref()
        .unwrap()
        .contains("tuned for balanced_accuracy"));
    let report = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(report.contains("Decision rule") && report.contains("Cut-off search"));

    // The saved model carries the rule and the class counts, and predicting the validation
    // texts with it gives the recorded metric.
    let saved = SavedClassifier::open(&run.join("model"), &candle_core::Device::Cpu).unwrap();
    assert_eq!(saved.info.class_counts, vec![4, 60]);
    let rule = saved.info.decision.clone().unwrap();
    let texts: Vec<String> = val_rows.iter().map(|(t, _)| t.clone()).collect();
    let proba: Vec<Vec<f64>> = predict_texts(&saved, &texts, Path::new(""), 16, &mut |_| {})
        .unwrap()
        .iter()
        .map(|z| softmax(z))
        .collect();
    let predicted = predict_all(&proba, Some(&rule));
    let targets: Vec<usize> = val_rows
        .iter()
        .map(|(_, l)| usize::from(*l == "pos"))
        .collect();
    let recall = |c: usize| {
        let n = targets.iter().filter(|&&t| t == c).count() as f64;
        targets
            .iter()
            .zip(&predicted)
            .filter(|&(&t, &p)| t == c && p == c)
            .count() as f64
            / n
    };
    assert!(((recall(0) + recall(1)) / 2.0 - after).abs() < 1e-9);

    // Post-hoc logit adjustment: offsets −τ·log prior, and the rarer class gains recall.
    let plain = s.run(&train_rows, &val_rows, |c| {
        c.epochs = 3;
        c.train_layers = TrainLayers::Top(1);
    });
    let adjusted = s.run(&train_rows, &val_rows, |c| {
        c.epochs = 3;
        c.train_layers = TrainLayers::Top(1);
        c.logit_adjust = Some(1.0);
    });
    let saved = SavedClassifier::open(&run.join("model"), &candle_core::Device::Cpu).unwrap();
    assert_eq!(
        saved.info.decision,
        Some(DecisionRule::posthoc_adjustment(
            &[4.0 / 64.0, 60.0 / 64.0],
            1.0
        ))
    );
    assert!(
        adjusted.val.per_class[0].recall >= plain.val.per_class[0].recall,
        "{} → {}",
        plain.val.per_class[0].recall,
        adjusted.val.per_class[0].recall
    );
    assert!(plain.decision.is_none());
}

#[test]
fn embedding_space_oversampling_trains_the_head_on_synthetic_minority_embeddings() {
    let s = Scenario::new();
    let mut train_rows = labelled(reviews(&GOOD, 60, 0), "pos");
    train_rows.extend(labelled(reviews(&BAD, 8, 0), "neg"));
    let mut val_rows = labelled(reviews(&GOOD, 30, 1), "pos");
    val_rows.extend(labelled(reviews(&BAD, 6, 1), "neg"));
    let head_only = |c: &mut TrainConfig| {
        c.epochs = 10;
        c.train_layers = TrainLayers::Top(0);
        c.head_lr = 1e-2;
        c.patience = 0;
    };
    let plain = s.run(&train_rows, &val_rows, head_only);
    for how in ["random", "smote", "borderline", "adasyn"] {
        let result = s.run(&train_rows, &val_rows, |c| {
            head_only(c);
            c.oversample = Some(how.parse().unwrap());
        });
        assert!(result.val_loss.is_finite(), "{how}");
        // The plain head never predicts the minority (recall 0); with synthetic minority
        // embeddings it finds half or more of it (measured 0.5 random, 0.83 the others).
        assert!(
            result.val.per_class[0].recall >= 0.5 && plain.val.per_class[0].recall < 0.2,
            "{how}: {} → {}",
            plain.val.per_class[0].recall,
            result.val.per_class[0].recall
        );
    }
    // Oversampling is for frozen embeddings only.
    let error = TrainConfig {
        model: "m".into(),
        train: "t.csv".into(),
        oversample: Some("smote".parse().unwrap()),
        ..TrainConfig::default()
    }
    .validate()
    .unwrap_err()
    .to_string();
    assert!(error.contains("--train-layers 0"), "{error}");
}
