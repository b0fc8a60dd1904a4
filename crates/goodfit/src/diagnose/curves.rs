//! Verdicts from the learning curves: overfitting, underfitting, not converged.

use serde_json::{json, Map, Value};

use crate::model::TrainLayers;

use super::facts::RunFacts;
use super::verdict::{Remedy, Severity, Verdict, VerdictKind};

/// A rise of validation loss above its minimum smaller than this share is noise.
const RISE_TOLERANCE: f64 = 0.05;
/// A train − validation gap of the monitored score above this is large.
const LARGE_GAP: f64 = 0.10;
/// A relative fall of the training loss in the last epoch above this means still learning.
const STILL_LEARNING: f64 = 0.03;

/// The loss of always predicting the class frequencies: the entropy of the class shares.
/// A model whose training loss stays near it has learned nothing from the inputs.
pub fn prior_loss(class_counts: &[usize]) -> f64 {
    let total: usize = class_counts.iter().sum();
    class_counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = n as f64 / total as f64;
            -p * p.ln()
        })
        .sum()
}

fn remedy(flags: String, why: &str) -> Remedy {
    Remedy {
        flags,
        why: why.to_string(),
    }
}

/// The score whose train/validation gap is watched: the monitored metric, else macro-F1.
fn gap_metric(facts: &RunFacts) -> String {
    match facts.config.monitor.strip_prefix("val_") {
        Some(metric)
            if metric != "loss"
                && facts
                    .history
                    .iter()
                    .any(|r| r.get(&format!("train_{metric}")).is_some()) =>
        {
            metric.to_string()
        }
        _ => "f1_macro".to_string(),
    }
}

/// Overfitting: validation loss reached its minimum and then rose by more than the tolerance
/// while training loss kept falling; or the train − validation gap is large and growing.
pub fn overfitting(facts: &RunFacts) -> Option<Verdict> {
    let val = facts.series("val_loss");
    let train = facts.series("train_loss");
    let n = val.len();
    if n < 2 {
        return None;
    }
    let (best, v_min) = val
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    let v_last = val[n - 1]?;
    let rise = (v_last - v_min) / v_min.max(1e-12);
    let train_fell = matches!((train[best], train[n - 1]), (Some(a), Some(b)) if b < a);
    let metric = gap_metric(facts);
    let gaps: Vec<Option<f64>> = facts
        .history
        .iter()
        .map(|r| Some(r.get(&format!("train_{metric}"))? - r.get(&format!("val_{metric}"))?))
        .collect();
    let gap_last = gaps[n - 1].unwrap_or(0.0);
    let gap_first = gaps.iter().flatten().next().copied().unwrap_or(0.0);
    let loss_turned = best < n - 1 && rise > RISE_TOLERANCE && train_fell;
    let gap_grew = gap_last > LARGE_GAP && gap_last > gap_first + 0.05;
    if !loss_turned && !gap_grew {
        return None;
    }
    let severity = if rise > 0.25 || gap_last > 0.25 {
        Severity::High
    } else if rise > 0.10 || gap_last > 0.15 {
        Severity::Medium
    } else {
        Severity::Low
    };
    let mut evidence = Map::new();
    evidence.insert("best_val_loss_epoch".into(), json!(best + 1));
    evidence.insert("val_loss_min".into(), json!(v_min));
    evidence.insert("val_loss_last".into(), json!(v_last));
    evidence.insert("val_loss_rise".into(), json!(rise));
    evidence.insert("train_loss_at_best".into(), json!(train[best]));
    evidence.insert("train_loss_last".into(), json!(train[n - 1]));
    evidence.insert(format!("gap_{metric}_first"), json!(gap_first));
    evidence.insert(format!("gap_{metric}_last"), json!(gap_last));
    let summary = if loss_turned {
        format!(
            "validation loss was lowest at epoch {} ({v_min:.4}) and rose {:.0}% to {v_last:.4} while training loss kept falling; the train−validation {metric} gap is {gap_last:.3}{}",
            best + 1,
            rise * 100.0,
            if facts.best_epoch == Some(best + 1) { format!(" (the weights of epoch {} were kept)", best + 1) } else { String::new() }
        )
    } else {
        format!("the train−validation {metric} gap grew from {gap_first:.3} to {gap_last:.3}")
    };
    let c = &facts.config;
    let mut remedies = Vec::new();
    match c.train_layers {
        TrainLayers::All => remedies.push(remedy(
            "--train-layers 2".into(),
            "train fewer layers: less capacity to memorise",
        )),
        TrainLayers::Top(k) if k > 0 => remedies.push(remedy(
            format!("--train-layers {}", k - 1),
            "train fewer layers: less capacity to memorise",
        )),
        TrainLayers::Top(_) => {}
    }
    remedies.push(remedy(
        format!("--weight-decay {}", round((c.weight_decay * 5.0).max(0.05))),
        "stronger weight decay pulls weights towards zero",
    ));
    remedies.push(remedy(
        format!(
            "--dropout {}",
            round((c.dropout.unwrap_or(0.1) + 0.1).min(0.5))
        ),
        "more dropout makes memorising harder",
    ));
    if c.patience != 1 {
        remedies.push(remedy(
            "--patience 1".into(),
            "stop at the first epoch without improvement",
        ));
    }
    if c.label_smoothing == 0.0 {
        remedies.push(remedy(
            "--label-smoothing 0.1".into(),
            "softer targets discourage over-confident fits",
        ));
    }
    remedies.push(remedy(
        format!("--lr {}", round(c.lr / 2.0)),
        "smaller steps move less far from the pretrained weights",
    ));
    Some(Verdict {
        kind: VerdictKind::Overfitting,
        severity,
        summary,
        evidence,
        remedies,
    })
}

/// Underfitting (training loss near the prior baseline, or training score near chance, and
/// flat) or not converged (still improving when training stopped).
pub fn underfitting(facts: &RunFacts) -> Option<Verdict> {
    let train = facts.series("train_loss");
    let val = facts.series("val_loss");
    let n = train.len();
    let last = train.last().copied().flatten()?;
    let prior = prior_loss(&facts.class_counts);
    let majority_share = facts.class_counts.iter().max().copied().unwrap_or(0) as f64
        / facts.class_counts.iter().sum::<usize>().max(1) as f64;
    let train_accuracy = facts.history.last().and_then(|r| r.get("train_accuracy"));
    let train_balanced = facts
        .history
        .last()
        .and_then(|r| r.get("train_balanced_accuracy"));
    let chance = 1.0 / facts.class_counts.len().max(1) as f64;
    let near_prior = last > 0.85 * prior;
    let near_chance = train_accuracy.is_some_and(|a| a <= majority_share + 0.02)
        || train_balanced.is_some_and(|b| b <= chance + 0.05);
    let previous = if n >= 2 { train[n - 2] } else { None };
    let fall = previous.map_or(0.0, |p| (p - last) / p.max(1e-12));
    let val_fell =
        n >= 2 && matches!((val[n - 2], val[n - 1]), (Some(a), Some(b)) if b < a * (1.0 - 0.01));
    let still_learning =
        n >= 2 && fall > STILL_LEARNING && (val_fell || near_prior) && !facts.stopped_early;
    let c = &facts.config;
    let mut evidence = Map::new();
    evidence.insert("train_loss_last".into(), json!(last));
    evidence.insert("prior_loss".into(), json!(prior));
    evidence.insert("train_loss_fall_last_epoch".into(), json!(fall));
    evidence.insert("train_accuracy".into(), json!(train_accuracy));
    evidence.insert("majority_share".into(), json!(majority_share));
    evidence.insert("epochs".into(), json!(n));
    if still_learning {
        let summary = format!(
            "still improving when training stopped: training loss fell {:.0}% in the last epoch (to {last:.4}){}",
            fall * 100.0,
            if val_fell { " and validation loss fell too" } else { "" }
        );
        let remedies = vec![
            remedy(
                format!("--epochs {}", c.epochs * 2),
                "train longer: the curves have not flattened",
            ),
            remedy(
                format!("--lr {}", round(c.lr * 2.0)),
                "larger steps converge sooner",
            ),
        ];
        let severity = if near_prior {
            Severity::Medium
        } else {
            Severity::Low
        };
        return Some(Verdict {
            kind: VerdictKind::NotConverged,
            severity,
            summary,
            evidence,
            remedies,
        });
    }
    if !(near_prior || near_chance) {
        return None;
    }
    let summary = format!(
        "training loss {last:.4} stays near the {prior:.4} of always predicting the class shares{}, and the curves are flat: the model is not fitting the training data",
        train_accuracy.map_or(String::new(), |a| format!(" (training accuracy {a:.3}, majority share {majority_share:.3})"))
    );
    let mut remedies = vec![remedy(
        format!(
            "--lr {} --head-lr {}",
            round(c.lr * 5.0),
            round(c.head_lr * 3.0)
        ),
        "a larger learning rate: the weights barely moved",
    )];
    match c.train_layers {
        TrainLayers::Top(k) if k < 6 => remedies.push(remedy(
            format!("--train-layers {}", k + 2),
            "train more layers: more capacity",
        )),
        _ => {}
    }
    remedies.push(remedy(
        format!("--epochs {}", c.epochs * 2),
        "more passes over the data",
    ));
    if c.weight_decay > 0.01 || c.l1 > 0.0 || c.dropout.is_some_and(|d| d > 0.1) {
        remedies.push(remedy(
            "--weight-decay 0.01 --l1 0 --dropout 0.1".into(),
            "less regularisation",
        ));
    }
    if !matches!(c.pooling, crate::model::Pooling::Mean) {
        remedies.push(remedy(
            "--pooling mean".into(),
            "mean pooling suits sentence encoders better",
        ));
    }
    if c.head_hidden.is_none() {
        remedies.push(remedy(
            "--head-hidden 256".into(),
            "a hidden layer in the head adds capacity",
        ));
    }
    let severity = if last > 0.95 * prior {
        Severity::High
    } else {
        Severity::Medium
    };
    Some(Verdict {
        kind: VerdictKind::Underfitting,
        severity,
        summary,
        evidence,
        remedies,
    })
}

/// A value written with few digits, for flags.
fn round(x: f64) -> Value {
    let digits = if x == 0.0 {
        0
    } else {
        (2 - x.abs().log10().floor() as i32).max(0) as usize
    };
    let text = format!("{x:.digits$}");
    json!(text.parse::<f64>().unwrap_or(x))
}
