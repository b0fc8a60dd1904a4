//! The proposals each verdict gets, and the head-only stage.

use serde_json::{json, Map};

use super::*;
use crate::diagnose::Severity;

fn ctx(ratio: f64, truncated_share: f64) -> Context {
    Context::example(1000, ratio, truncated_share)
}

fn names(proposals: &[Proposal]) -> Vec<&str> {
    proposals.iter().map(|p| p.name.as_str()).collect()
}

fn diagnosis(kind: VerdictKind, evidence: Value) -> Diagnosis {
    let Value::Object(evidence) = evidence else {
        unreachable!()
    };
    Diagnosis {
        verdicts: vec![Verdict {
            kind,
            severity: Severity::Medium,
            summary: String::new(),
            evidence,
            remedies: Vec::new(),
        }],
    }
}

#[test]
fn overfitting_asks_for_regularisation_then_fewer_layers_then_an_earlier_stop() {
    let c = TrainConfig::default();
    let d = diagnosis(
        VerdictKind::Overfitting,
        json!({"best_val_loss_epoch": 2, "val_loss_rise": 0.12}),
    );
    let proposals = propose(&c, &d, &ctx(1.0, 0.0));
    assert_eq!(
        names(&proposals),
        ["regularise", "fewer-layers", "stop-earlier", "lower-lr"]
    );
    let regularise = &proposals[0].config;
    assert!(regularise.weight_decay > c.weight_decay);
    assert_eq!(regularise.dropout, Some(0.2));
    assert_eq!(proposals[1].config.train_layers, TrainLayers::Top(1));
    assert_eq!(proposals[2].config.patience, 1);
    assert_eq!(proposals[3].config.lr, 5e-5);
    assert_eq!(
        proposals[0].why,
        "overfitting (medium): validation loss lowest at epoch 2, then up 12% → weight decay 0.05, dropout 0.2"
    );
}

#[test]
fn underfitting_asks_for_capacity_and_steps_and_longer_inputs_only_when_texts_are_cut() {
    let c = TrainConfig::default();
    let d = diagnosis(
        VerdictKind::Underfitting,
        json!({"train_loss_last": 0.69, "prior_loss": 0.69}),
    );
    let short = propose(&c, &d, &ctx(1.0, 0.0));
    assert_eq!(
        names(&short),
        [
            "higher-lr",
            "more-layers",
            "more-epochs",
            "less-regularisation",
            "head-hidden"
        ]
    );
    assert_eq!(short[0].config.lr, 3e-4);
    assert_eq!(short[0].config.head_lr, 3e-3);
    assert_eq!(short[1].config.train_layers, TrainLayers::Top(3));
    assert_eq!(short[2].config.epochs, 6);
    assert_eq!(short[3].config.weight_decay, 0.0);
    let cut = propose(&c, &d, &ctx(1.0, 0.3));
    let longer = cut.iter().find(|p| p.name == "longer-inputs").unwrap();
    assert_eq!(longer.config.max_len, 256);
    assert!(longer.why.contains("30% of the texts"), "{}", longer.why);
    // Nothing more to add once every layer trains and the window is the model's.
    let full = TrainConfig {
        train_layers: TrainLayers::Top(6),
        max_len: 512,
        ..c
    };
    let none_left = propose(&full, &d, &ctx(1.0, 0.3));
    let left = names(&none_left);
    assert!(!left.contains(&"more-layers") && !left.contains(&"longer-inputs"));
}

#[test]
fn not_converged_asks_for_more_epochs_first() {
    let c = TrainConfig::default();
    let d = diagnosis(
        VerdictKind::NotConverged,
        json!({"train_loss_fall_last_epoch": 0.2}),
    );
    let proposals = propose(&c, &d, &ctx(1.0, 0.0));
    assert_eq!(proposals[0].name, "more-epochs");
    assert_eq!(proposals[0].config.epochs, 6);
    assert!(
        proposals[0].why.contains("fell 20%"),
        "{}",
        proposals[0].why
    );
    assert_eq!(proposals[1].name, "higher-lr");
}

#[test]
fn imbalance_bias_climbs_the_ladder() {
    let d = diagnosis(
        VerdictKind::ImbalanceBias,
        json!({"minority_recall": 0.3, "majority_recall": 0.95,
               "minority_class": "rare", "majority_class": "common"}),
    );
    let c = TrainConfig::default();
    let first = propose(&c, &d, &ctx(4.0, 0.0));
    assert_eq!(
        names(&first),
        ["class-weights", "balanced-sampler", "tune-threshold"],
        "no SMOTE for a fine-tune"
    );
    assert!(first[0].why.contains("recall 0.30 for 'rare'"));
    // With weights in place, the next rung replaces them with the sampler.
    let weighted = &first[0].config;
    let second = propose(weighted, &d, &ctx(4.0, 0.0));
    assert_eq!(second[0].name, "balanced-sampler");
    assert_eq!(second[0].config.class_weight, ClassWeight::None);
    assert_eq!(second[0].config.sampler, Sampler::Balanced);
    let tuned = &second[1].config;
    assert_eq!(tuned.tune_threshold, Some(Objective::F1Macro));
    let head = TrainConfig {
        train_layers: TrainLayers::Top(0),
        tune_threshold: Some(Objective::F1Macro),
        sampler: Sampler::Balanced,
        ..TrainConfig::default()
    };
    let last = propose(&head, &d, &ctx(4.0, 0.0));
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].config.oversample, Some(Oversample::Smote));
}

#[test]
fn a_good_fit_tries_neighbouring_learning_rates() {
    let d = diagnosis(VerdictKind::GoodFit, Value::Object(Map::new()));
    let proposals = propose(&TrainConfig::default(), &d, &ctx(1.0, 0.0));
    let lrs: Vec<f64> = proposals.iter().map(|p| p.config.lr).collect();
    assert_eq!(lrs, [5e-5, 2e-4]);
}

#[test]
fn head_stages_build_on_the_best_head_and_skip_remedies_for_balanced_classes() {
    let best = head_only(&TrainConfig::default());
    assert_eq!(best.train_layers, TrainLayers::Top(0));
    assert_eq!(best.epochs, HEAD_EPOCHS);
    let lrs: Vec<f64> = head_stage(HeadStage::LearningRate, &best, &ctx(1.0, 0.0), false)
        .iter()
        .map(|p| p.config.head_lr)
        .collect();
    assert_eq!(lrs, [3e-3, 1e-2]);
    assert!(head_stage(HeadStage::Imbalance, &best, &ctx(1.0, 0.0), false).is_empty());
    let remedies = head_stage(HeadStage::Imbalance, &best, &ctx(1.0, 0.0), true);
    assert_eq!(
        names(&remedies),
        [
            "head-class-weights",
            "head-logit-adjusted",
            "head-balanced-sampler",
            "head-tune-threshold",
            "head-smote"
        ]
    );
    let hidden = TrainConfig {
        head_hidden: Some(256),
        ..best
    };
    assert!(head_stage(HeadStage::Hidden, &hidden, &ctx(1.0, 0.0), false).is_empty());
}
