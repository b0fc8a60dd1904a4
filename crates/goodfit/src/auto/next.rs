//! What to try next: configurations that answer the verdicts on a trial, each with the
//! evidence that calls for it in one line.
//!
//! | verdict | changes, most promising first |
//! |---|---|
//! | overfitting | more regularisation (weight decay, dropout); fewer trainable layers; an earlier stop; a lower learning rate |
//! | underfitting | a higher learning rate; more trainable layers; longer inputs (when many texts are cut); more epochs; less regularisation; a hidden layer in the head |
//! | not converged | more epochs; a higher learning rate; more trainable layers |
//! | imbalance bias | the ladder: class weights, then a balanced sampler (instead of the weights), then a tuned decision rule, then (encoder frozen) SMOTE in embedding space |
//! | good fit | a neighbouring learning rate, half and double |
//!
//! The cheap head-only stage has its own short list ([`head_stage`]): head learning rates,
//! weight decay, a hidden layer, and every imbalance remedy on its own.

use serde_json::Value;

use crate::decision::Objective;
use crate::diagnose::{Diagnosis, Verdict, VerdictKind};
use crate::model::TrainLayers;
use crate::train::imbalance::{ClassWeight, LossKind, Sampler};
use crate::train::oversample::Oversample;
use crate::train::TrainConfig;

use super::recipe::DataFacts;

mod answers;
#[cfg(test)]
mod tests;

/// Epochs a head-only trial runs (a pass over cached features takes milliseconds; early
/// stopping ends it sooner).
pub const HEAD_EPOCHS: usize = 20;
/// The most epochs a proposal asks for.
pub const MAX_EPOCHS: usize = 30;
/// The longest input window a proposal asks for.
pub const MAX_WINDOW: usize = 512;

/// A configuration to try, with a short name and the reason for it.
#[derive(Debug, Clone)]
pub struct Proposal {
    /// A short name for the trial folder (`regularise`, `head-lr0.003`).
    pub name: String,
    /// The evidence and the change, in one line.
    pub why: String,
    /// The settings.
    pub config: TrainConfig,
}

/// What proposals depend on besides the configuration and its verdicts.
#[derive(Debug, Clone)]
pub struct Context {
    /// Facts about the training data.
    pub facts: DataFacts,
    /// The encoder's layers.
    pub layers: usize,
    /// The longest input the model takes, in tokens.
    pub positions: usize,
    /// What a tuned decision rule aims for (from the select metric).
    pub objective: Objective,
}

#[cfg(test)]
impl Context {
    /// A 6-layer model with 512 positions and `rows` training rows in two classes `ratio`
    /// : 1, `truncated_share` of them filling a 128-token window; for tests.
    pub(crate) fn example(rows: usize, ratio: f64, truncated_share: f64) -> Context {
        let small = (rows as f64 / (1.0 + ratio)).round() as usize;
        Context {
            facts: DataFacts {
                train_rows: rows,
                class_counts: vec![rows - small, small],
                imbalance_ratio: ratio,
                median_tokens: Some(50.0),
                truncated_share,
                max_len: 128,
            },
            layers: 6,
            positions: 512,
            objective: Objective::F1Macro,
        }
    }
}

/// The imbalance remedies a search tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Remedy {
    /// Balanced class weights in the loss.
    ClassWeights,
    /// The logit-adjusted loss.
    LogitAdjustedLoss,
    /// Mini-batches with every class equally likely.
    BalancedSampler,
    /// A decision rule tuned on the validation set.
    TuneThreshold,
    /// SMOTE on the frozen encoder's embeddings.
    Oversample,
}

impl Remedy {
    /// Every remedy, as the head-only stage tries them (each on its own).
    pub const ALL: [Remedy; 5] = [
        Remedy::ClassWeights,
        Remedy::LogitAdjustedLoss,
        Remedy::BalancedSampler,
        Remedy::TuneThreshold,
        Remedy::Oversample,
    ];
    /// The order in which an imbalance verdict escalates.
    pub const LADDER: [Remedy; 4] = [
        Remedy::ClassWeights,
        Remedy::BalancedSampler,
        Remedy::TuneThreshold,
        Remedy::Oversample,
    ];

    /// Its short name.
    pub fn name(self) -> &'static str {
        match self {
            Remedy::ClassWeights => "class-weights",
            Remedy::LogitAdjustedLoss => "logit-adjusted",
            Remedy::BalancedSampler => "balanced-sampler",
            Remedy::TuneThreshold => "tune-threshold",
            Remedy::Oversample => "smote",
        }
    }

    /// Whether it would change `config` and can run with it. The loss-side remedies
    /// (weights, logit-adjusted loss, sampler) replace one another, so a later rung of the
    /// ladder is not undone by an earlier one.
    pub fn applies(self, config: &TrainConfig) -> bool {
        match self {
            Remedy::ClassWeights => {
                config.class_weight == ClassWeight::None
                    && config.sampler == Sampler::Random
                    && config.loss == LossKind::CrossEntropy
            }
            Remedy::LogitAdjustedLoss => config.loss != LossKind::LogitAdjusted,
            Remedy::BalancedSampler => config.sampler == Sampler::Random,
            Remedy::TuneThreshold => {
                config.tune_threshold.is_none() && config.logit_adjust.is_none()
            }
            Remedy::Oversample => {
                config.train_layers == TrainLayers::Top(0) && config.oversample.is_none()
            }
        }
    }

    /// `config` with the remedy; the loss-side ones replace each other (both at once would
    /// correct the imbalance twice).
    pub fn apply(self, config: &TrainConfig, objective: &Objective) -> TrainConfig {
        let mut c = config.clone();
        let loss_side = |c: &mut TrainConfig, weight, loss, sampler| {
            c.class_weight = weight;
            c.loss = loss;
            c.sampler = sampler;
        };
        match self {
            Remedy::ClassWeights => loss_side(
                &mut c,
                ClassWeight::Balanced,
                LossKind::CrossEntropy,
                Sampler::Random,
            ),
            Remedy::LogitAdjustedLoss => loss_side(
                &mut c,
                ClassWeight::None,
                LossKind::LogitAdjusted,
                Sampler::Random,
            ),
            Remedy::BalancedSampler => loss_side(
                &mut c,
                ClassWeight::None,
                LossKind::CrossEntropy,
                Sampler::Balanced,
            ),
            Remedy::TuneThreshold => {
                c.tune_threshold = Some(objective.clone());
                c.logit_adjust = None;
            }
            Remedy::Oversample => c.oversample = Some(Oversample::Smote),
        }
        c
    }

    /// The change in words.
    fn describe(self, objective: &Objective) -> String {
        match self {
            Remedy::ClassWeights => "balanced class weights in the loss".into(),
            Remedy::LogitAdjustedLoss => "the logit-adjusted loss".into(),
            Remedy::BalancedSampler => {
                "a balanced sampler (instead of weights or an adjusted loss)".into()
            }
            Remedy::TuneThreshold => format!("a decision rule tuned for {objective}"),
            Remedy::Oversample => "SMOTE on the frozen encoder's embeddings".into(),
        }
    }
}

/// The head-only stages, in the order they run; each builds on the best head so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadStage {
    /// Higher head learning rates.
    LearningRate,
    /// Stronger weight decay.
    WeightDecay,
    /// A hidden layer in the head.
    Hidden,
    /// Each imbalance remedy on its own (only when the classes are imbalanced).
    Imbalance,
    /// A window twice as long (only when many texts fill it): a new session, whose
    /// features cost one pass of the encoder over the data.
    Window,
}

impl HeadStage {
    /// The stages in order.
    pub const ALL: [HeadStage; 5] = [
        HeadStage::LearningRate,
        HeadStage::WeightDecay,
        HeadStage::Hidden,
        HeadStage::Imbalance,
        HeadStage::Window,
    ];
}

/// The head-only version of `recipe`: the encoder frozen (its pooled features computed
/// once), more epochs since each costs milliseconds, and a little more patience.
pub fn head_only(recipe: &TrainConfig) -> TrainConfig {
    TrainConfig {
        train_layers: TrainLayers::Top(0),
        epochs: HEAD_EPOCHS.max(recipe.epochs),
        patience: recipe.patience.max(3),
        ..recipe.clone()
    }
}

/// The proposals of one head-only stage, built on `best`, the best head configuration so
/// far. The imbalance stage is empty when the classes are balanced and no head trial was
/// found biased (`biased`).
pub fn head_stage(
    stage: HeadStage,
    best: &TrainConfig,
    ctx: &Context,
    biased: bool,
) -> Vec<Proposal> {
    let head = |name: String, why: String, config: TrainConfig| Proposal {
        name: format!("head-{name}"),
        why: format!("head only: {why}"),
        config,
    };
    match stage {
        HeadStage::LearningRate => [3.0, 10.0]
            .iter()
            .map(|factor| {
                let lr = round2(best.head_lr * factor);
                head(
                    format!("lr{lr}"),
                    format!("a head learning rate {factor}× the {}", best.head_lr),
                    TrainConfig {
                        head_lr: lr,
                        ..best.clone()
                    },
                )
            })
            .collect(),
        HeadStage::WeightDecay if best.weight_decay < 0.1 => vec![head(
            "wd0.1".into(),
            format!("weight decay 0.1 instead of {}", best.weight_decay),
            TrainConfig {
                weight_decay: 0.1,
                ..best.clone()
            },
        )],
        HeadStage::Hidden if best.head_hidden.is_none() => vec![head(
            "hidden256".into(),
            "a hidden layer of 256 in the head: a non-linear classifier of the features".into(),
            TrainConfig {
                head_hidden: Some(256),
                ..best.clone()
            },
        )],
        HeadStage::Imbalance if ctx.facts.imbalanced() || biased => Remedy::ALL
            .iter()
            .filter(|r| r.applies(best))
            .map(|r| {
                head(
                    r.name().into(),
                    format!(
                        "classes {:.1} : 1 → {}",
                        ctx.facts.imbalance_ratio,
                        r.describe(&ctx.objective)
                    ),
                    r.apply(best, &ctx.objective),
                )
            })
            .collect(),
        HeadStage::Window if ctx.facts.truncating() => {
            let window = (best.max_len * 2).min(MAX_WINDOW).min(ctx.positions);
            if window <= best.max_len {
                return Vec::new();
            }
            vec![head(
                format!("len{window}"),
                format!(
                    "{:.0}% of the training texts fill {} tokens → max_len {window}",
                    ctx.facts.truncated_share * 100.0,
                    best.max_len
                ),
                TrainConfig {
                    max_len: window,
                    ..best.clone()
                },
            )]
        }
        _ => Vec::new(),
    }
}

/// Configurations that answer the verdicts on a trial run with `config`, most severe verdict
/// first and, within a verdict, the most promising change first. Nothing here checks what
/// was tried before: the search skips repeats.
pub fn propose(config: &TrainConfig, diagnosis: &Diagnosis, ctx: &Context) -> Vec<Proposal> {
    let mut proposals = Vec::new();
    for verdict in &diagnosis.verdicts {
        let because = evidence_line(verdict);
        let mut add = |name: &str, change: String, changed: Option<TrainConfig>| {
            if let Some(changed) = changed.filter(|c| c != config) {
                proposals.push(Proposal {
                    name: name.into(),
                    why: format!("{because} → {change}"),
                    config: changed,
                });
            }
        };
        let answers = match verdict.kind {
            VerdictKind::Overfitting => answers::overfitting(config, ctx),
            VerdictKind::Underfitting => answers::underfitting(config, ctx),
            VerdictKind::NotConverged => answers::not_converged(config, ctx),
            VerdictKind::ImbalanceBias => answers::imbalance_bias(config, ctx),
            VerdictKind::GoodFit => answers::good_fit(config),
        };
        for (name, change, changed) in answers {
            add(name, change, changed);
        }
    }
    proposals
}

/// A verdict as `kind (severity)`, as trials record them.
pub fn verdict_label(verdict: &Verdict) -> String {
    let severity = serde_json::to_value(verdict.severity)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    format!("{} ({severity})", verdict.kind)
}

/// The verdict and the number it rests on, short.
fn evidence_line(verdict: &Verdict) -> String {
    let number = |key: &str| verdict.evidence.get(key).and_then(Value::as_f64);
    let text = |key: &str| {
        verdict
            .evidence
            .get(key)
            .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
            .unwrap_or_default()
    };
    let detail = match verdict.kind {
        VerdictKind::Overfitting => {
            match (number("best_val_loss_epoch"), number("val_loss_rise")) {
                (Some(epoch), Some(rise)) if rise > 0.0 => format!(
                    "validation loss lowest at epoch {epoch}, then up {:.0}%",
                    rise * 100.0
                ),
                _ => "the train−validation gap grew".into(),
            }
        }
        VerdictKind::Underfitting => format!(
            "training loss {:.3} near the class-prior loss {:.3}",
            number("train_loss_last").unwrap_or(f64::NAN),
            number("prior_loss").unwrap_or(f64::NAN)
        ),
        VerdictKind::NotConverged => format!(
            "training loss still fell {:.0}% in the last epoch",
            number("train_loss_fall_last_epoch").unwrap_or(f64::NAN) * 100.0
        ),
        VerdictKind::ImbalanceBias => format!(
            "recall {:.2} for '{}' against {:.2} for '{}'",
            number("minority_recall").unwrap_or(f64::NAN),
            text("minority_class"),
            number("majority_recall").unwrap_or(f64::NAN),
            text("majority_class")
        ),
        VerdictKind::GoodFit => "no problem found".into(),
    };
    format!("{}: {detail}", verdict_label(verdict))
}

/// Two significant digits, so learning rates read as 3e-4, not 0.00030000000000000003.
fn round2(x: f64) -> f64 {
    format!("{x:.1e}").parse().unwrap_or(x)
}

fn opt_layers(layers: Option<TrainLayers>) -> String {
    layers.map_or("-".into(), |l| l.to_string())
}

/// One trainable layer fewer; none below one (head-only training is the cheap stage's).
fn fewer_layers(layers: TrainLayers, total: usize) -> Option<TrainLayers> {
    match layers {
        TrainLayers::All => Some(TrainLayers::Top((total / 2).max(1))),
        TrainLayers::Top(k) if k.min(total) > 1 => Some(TrainLayers::Top(k.min(total) - 1)),
        TrainLayers::Top(_) => None,
    }
}

/// One trainable layer more, up to every layer (the embeddings stay frozen).
fn more_layers(layers: TrainLayers, total: usize) -> Option<TrainLayers> {
    match layers {
        TrainLayers::Top(k) if k < total => Some(TrainLayers::Top(k + 1)),
        _ => None,
    }
}

/// Learning rates × `factor`, within 1e-3 for the encoder and 0.1 for the head.
fn higher_lr(c: &TrainConfig, factor: f64) -> Option<TrainConfig> {
    Some(TrainConfig {
        lr: round2(c.lr * factor).min(1e-3),
        head_lr: round2(c.head_lr * factor).min(0.1),
        ..c.clone()
    })
}

fn lr_change(c: &TrainConfig, factor: f64) -> String {
    format!(
        "learning rates {}× ({} and {} for the head)",
        factor,
        round2(c.lr * factor).min(1e-3),
        round2(c.head_lr * factor).min(0.1)
    )
}

/// Twice the epochs, up to [`MAX_EPOCHS`].
fn more_epochs(c: &TrainConfig) -> Option<TrainConfig> {
    (c.epochs < MAX_EPOCHS).then(|| TrainConfig {
        epochs: (c.epochs * 2).min(MAX_EPOCHS),
        ..c.clone()
    })
}

fn epochs_change(c: &TrainConfig) -> String {
    format!("{} epochs", (c.epochs * 2).min(MAX_EPOCHS))
}
