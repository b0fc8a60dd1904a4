//! The imbalance-bias verdict: the majority class favoured at the minority's expense.

use serde_json::{json, Map};

use crate::train::imbalance::{ClassWeight, LossKind, Sampler};

use super::facts::RunFacts;
use super::verdict::{Remedy, Severity, Verdict, VerdictKind};

/// Imbalance bias: an imbalanced training set together with a wide spread of per-class
/// recall (minority recall far below majority recall), predictions skewed towards the
/// majority compared with the truth, or balanced accuracy far below accuracy.
pub fn imbalance_bias(facts: &RunFacts) -> Option<Verdict> {
    let k = facts.class_counts.len();
    if k < 2 || facts.confusion.len() != k {
        return None;
    }
    let (majority, &largest) = facts
        .class_counts
        .iter()
        .enumerate()
        .max_by_key(|(_, &n)| n)?;
    let (minority, &smallest) = facts
        .class_counts
        .iter()
        .enumerate()
        .min_by_key(|(_, &n)| n)?;
    let ratio = largest as f64 / smallest.max(1) as f64;
    let support: Vec<u64> = facts.confusion.iter().map(|row| row.iter().sum()).collect();
    let predicted: Vec<u64> = (0..k)
        .map(|j| facts.confusion.iter().map(|row| row[j]).sum())
        .collect();
    let total = support.iter().sum::<u64>().max(1) as f64;
    let recall =
        |c: usize| (support[c] > 0).then(|| facts.confusion[c][c] as f64 / support[c] as f64);
    let (Some(recall_major), Some(recall_minor)) = (recall(majority), recall(minority)) else {
        return None;
    };
    let recalls: Vec<f64> = (0..k).filter_map(recall).collect();
    let spread = recalls.iter().cloned().fold(f64::MIN, f64::max)
        - recalls.iter().cloned().fold(f64::MAX, f64::min);
    let true_share = support[majority] as f64 / total;
    let predicted_share = predicted[majority] as f64 / total;
    let balanced_gap = facts.balanced_accuracy.map_or(0.0, |b| facts.accuracy - b);
    let recall_gap = recall_major - recall_minor;
    let biased = ratio >= 1.5
        && (recall_gap > 0.2 || balanced_gap > 0.1)
        && predicted_share > true_share + 0.03;
    if !biased {
        return None;
    }
    let severity = if recall_gap > 0.5 || recall_minor < 0.2 {
        Severity::High
    } else if recall_gap > 0.3 {
        Severity::Medium
    } else {
        Severity::Low
    };
    let (major_label, minor_label) = (&facts.labels[majority], &facts.labels[minority]);
    let mut evidence = Map::new();
    evidence.insert("imbalance_ratio".into(), json!(ratio));
    evidence.insert("majority_class".into(), json!(major_label));
    evidence.insert("minority_class".into(), json!(minor_label));
    evidence.insert("majority_recall".into(), json!(recall_major));
    evidence.insert("minority_recall".into(), json!(recall_minor));
    evidence.insert("recall_spread".into(), json!(spread));
    evidence.insert("majority_true_share".into(), json!(true_share));
    evidence.insert("majority_predicted_share".into(), json!(predicted_share));
    evidence.insert("accuracy".into(), json!(facts.accuracy));
    evidence.insert("balanced_accuracy".into(), json!(facts.balanced_accuracy));
    let summary = format!(
        "with {ratio:.1}× more '{major_label}' than '{minor_label}' in training, validation recall is {recall_major:.2} for '{major_label}' but {recall_minor:.2} for '{minor_label}', and '{major_label}' is predicted for {:.0}% of rows against {:.0}% true",
        predicted_share * 100.0,
        true_share * 100.0
    );
    let c = &facts.config;
    let mut remedies = Vec::new();
    let mut add = |flags: &str, why: &str| {
        remedies.push(Remedy {
            flags: flags.into(),
            why: why.into(),
        })
    };
    if c.class_weight == ClassWeight::None {
        add(
            "--class-weight balanced",
            "weigh each class's errors by n / (k · n_c), as scikit-learn's balanced weights do",
        );
    }
    if c.sampler == Sampler::Random {
        add(
            "--sampler balanced",
            "draw mini-batches with every class equally likely",
        );
    }
    match c.loss {
        LossKind::CrossEntropy => {
            add(
                "--loss focal --focal-gamma 2",
                "focus the loss on the examples the model still gets wrong",
            );
            add(
                "--loss logit-adjusted",
                "train against the class prior so that frequent classes win no free margin",
            );
        }
        LossKind::Focal | LossKind::LogitAdjusted => {}
    }
    if c.train_layers == crate::model::TrainLayers::Top(0) && c.oversample.is_none() {
        add(
            "--oversample smote",
            "with the encoder frozen, interpolate new minority examples between neighbouring minority embeddings (SMOTE)",
        );
    }
    if c.tune_threshold.is_none() {
        add(
            "--tune-threshold f1",
            "move the decision cut-off (or, for more classes, per-class offsets) to where the validation F1 is best; no retraining of the encoder's features",
        );
    }
    add(
        "--monitor val_balanced_accuracy",
        "choose the epoch by a score that weighs every class equally",
    );
    Some(Verdict {
        kind: VerdictKind::ImbalanceBias,
        severity,
        summary,
        evidence,
        remedies,
    })
}
