//! Reaching for capacity when the data allows it: more trainable layers and longer inputs,
//! tried when nothing is wrong with the best fine-tune rather than only when it underfits.
//!
//! The verdicts ask for more layers only on underfitting. On 3,000 tweets (3 classes) every
//! fine-tune of a search trained the top two layers, each verdict was low, and a plain
//! Hugging Face fine-tune of every layer (learning rate 5e-5, 3 epochs) scored test
//! macro-F1 0.763 against the search's 0.743: with thousands of rows the extra layers have
//! enough data to adapt without memorising it, and no verdict says so. The rules:
//! - **every layer**, once the best fine-tune's verdicts are all low and there are at least
//!   [`CAPACITY_ROWS`] training rows, at a learning rate of at most [`ALL_LAYERS_LR`];
//! - **the top half of the layers** with fewer rows, once the verdicts are all low and the
//!   best fine-tune trains fewer: on small data whether the top layer is enough depends on
//!   the task, not the size. Measured with `benches/auto/recipes.sh` (one fine-tune each,
//!   test macro-F1, seeds 42–44): on 300 food reviews (sentiment, 1.9 : 1) the top 3 of
//!   MiniLM's 6 layers beat the top layer alone by 0.09, on the 387-text long-tailed
//!   fortune topics they lost by 0.02; the validation score (cross-validated on such
//!   sets) decides between them. The search runs it right after the recipe's fine-tune
//!   ([`half_layers`]), before any remedy of a verdict: on the 300 reviews the recipe's
//!   overfitting verdict sent three regularising trials (none better) ahead of it;
//! - **a longer window** (twice as long, up to the model's positions) when more than
//!   [`TRUNCATION_WORRY`](super::recipe::TRUNCATION_WORRY) of the training texts fill it,
//!   whatever the verdicts: a cut text is information the model never sees.
//!
//! Each rule that does not apply says why, and the search writes these lines to
//! `auto.json` (with the time estimate when a trial did not fit).

use crate::diagnose::{Diagnosis, Severity};
use crate::model::TrainLayers;
use crate::train::TrainConfig;

use super::next::{Context, Proposal, MAX_WINDOW};

/// Training rows from which the search tries every layer when nothing is wrong.
pub const CAPACITY_ROWS: usize = 2000;

/// The highest learning rate of an every-layer fine-tune: the top of the range the BERT
/// paper recommends (2e-5 to 5e-5), and the rate of the plain Hugging Face fine-tune the
/// search lost to. The top-layer recipes use 1e-4, which is too high once the bottom
/// layers train too.
pub const ALL_LAYERS_LR: f64 = 5e-5;

/// The larger trials for the best fine-tune so far, and, for each rule that does not
/// apply, why not.
#[derive(Debug, Clone, Default)]
pub struct Capacity {
    /// Configurations with more capacity, most promising first.
    pub proposals: Vec<Proposal>,
    /// Why a rule did not apply, a line each.
    pub not_tried: Vec<String>,
}

/// The larger trials after the fine-tune `config` with `diagnosis` (trial `index`).
pub fn capacity(
    config: &TrainConfig,
    diagnosis: &Diagnosis,
    ctx: &Context,
    index: usize,
) -> Capacity {
    let mut out = Capacity::default();
    let rows = ctx.facts.train_rows;
    let all_low = diagnosis
        .verdicts
        .iter()
        .all(|v| v.severity <= Severity::Low);
    let top_only = matches!(config.train_layers, TrainLayers::Top(k) if k < ctx.layers);
    if !top_only {
        out.not_tried
            .push("every layer: the best fine-tune trains every layer already".into());
    } else if rows < CAPACITY_ROWS {
        out.not_tried.push(format!(
            "every layer: {rows} training rows, under the {CAPACITY_ROWS} from which all {} layers have data enough to adapt",
            ctx.layers
        ));
        let half = (ctx.layers / 2).max(1);
        match config.train_layers {
            TrainLayers::Top(k) if k >= half => out.not_tried.push(format!(
                "the top half of the layers: the best fine-tune trains {k} of {} already",
                ctx.layers
            )),
            _ if !all_low => out.not_tried.push(format!(
                "the top half of the layers: trial {index}, the best fine-tune, has a verdict above low severity, which its own remedies answer first"
            )),
            _ => out.proposals.extend(half_layers(config, ctx, index)),
        }
    } else if !all_low {
        out.not_tried.push(format!(
            "every layer: trial {index}, the best fine-tune, has a verdict above low severity, which its own remedies answer first"
        ));
    } else {
        let lr = config.lr.min(ALL_LAYERS_LR);
        out.proposals.push(Proposal {
            name: "all-layers".into(),
            why: format!(
                "after trial {index}, the best fine-tune: every verdict low and {rows} training rows → train every layer (learning rate {lr})"
            ),
            config: TrainConfig {
                train_layers: TrainLayers::All,
                lr,
                ..config.clone()
            },
        });
    }
    let window = (config.max_len * 2).min(MAX_WINDOW).min(ctx.positions);
    if !ctx.facts.truncating() {
        out.not_tried.push(format!(
            "longer inputs: {:.0}% of the training texts fill the {}-token window",
            ctx.facts.truncated_share * 100.0,
            ctx.facts.max_len
        ));
    } else if window <= config.max_len {
        out.not_tried.push(format!(
            "longer inputs: the window is {} tokens, the most the model takes",
            config.max_len
        ));
    } else {
        out.proposals.push(Proposal {
            name: "longer-inputs".into(),
            why: format!(
                "after trial {index}: {:.0}% of the training texts fill {} tokens → max_len {window}",
                ctx.facts.truncated_share * 100.0,
                ctx.facts.max_len
            ),
            config: TrainConfig {
                max_len: window,
                ..config.clone()
            },
        });
    }
    out
}

/// The top half of the layers for a fine-tune `config` (trial `index`) that trains fewer,
/// on fewer than [`CAPACITY_ROWS`] training rows; whatever its verdicts.
pub fn half_layers(config: &TrainConfig, ctx: &Context, index: usize) -> Option<Proposal> {
    let half = (ctx.layers / 2).max(1);
    let fewer = matches!(config.train_layers, TrainLayers::Top(k) if k < half);
    (ctx.facts.train_rows < CAPACITY_ROWS && fewer).then(|| Proposal {
        name: format!("top{half}"),
        why: format!(
            "after trial {index}: {} training rows → train the top {half} of {} layers (whether the top layer is enough on small data depends on the task, and the validation score says)",
            ctx.facts.train_rows, ctx.layers
        ),
        config: TrainConfig {
            train_layers: TrainLayers::Top(half),
            ..config.clone()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::VerdictKind;

    fn ctx(rows: usize, truncated_share: f64) -> Context {
        Context::example(rows, 1.0, truncated_share)
    }

    fn verdicts(severity: Severity) -> Diagnosis {
        Diagnosis::one(VerdictKind::Overfitting, severity)
    }

    fn names(c: &Capacity) -> Vec<&str> {
        c.proposals.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn every_layer_needs_thousands_of_rows_and_nothing_wrong() {
        let recipe = TrainConfig::default();
        let c = capacity(&recipe, &verdicts(Severity::Low), &ctx(2700, 0.0), 11);
        assert_eq!(names(&c), ["all-layers"]);
        let all = &c.proposals[0].config;
        assert_eq!(all.train_layers, TrainLayers::All);
        assert_eq!(all.lr, ALL_LAYERS_LR, "capped from the recipe's 1e-4");
        assert!(c.proposals[0].why.contains("2700 training rows"));
        assert!(
            c.not_tried[0].starts_with("longer inputs: 0%"),
            "{:?}",
            c.not_tried
        );

        let top1 = TrainConfig {
            train_layers: TrainLayers::Top(1),
            ..recipe.clone()
        };
        let small = capacity(&top1, &verdicts(Severity::Low), &ctx(350, 0.0), 11);
        assert!(
            small.not_tried[0].contains("350 training rows"),
            "{:?}",
            small.not_tried
        );
        let layers = Context::example(350, 1.0, 0.0).layers;
        assert_eq!(names(&small), [format!("top{}", layers / 2)]);
        assert_eq!(
            small.proposals[0].config.train_layers,
            TrainLayers::Top(layers / 2)
        );
        let worrying = capacity(&top1, &verdicts(Severity::Medium), &ctx(350, 0.0), 11);
        assert!(worrying.proposals.is_empty());
        assert!(worrying.not_tried[1].contains("above low"));
        let half = TrainConfig {
            train_layers: TrainLayers::Top(layers / 2),
            ..recipe.clone()
        };
        let c = capacity(&half, &verdicts(Severity::Low), &ctx(350, 0.0), 11);
        assert!(c.proposals.is_empty());
        assert!(c.not_tried[1].contains("already"), "{:?}", c.not_tried);

        let worrying = capacity(&recipe, &verdicts(Severity::Medium), &ctx(2700, 0.0), 11);
        assert!(worrying.proposals.is_empty());
        assert!(worrying.not_tried[0].contains("above low"));

        let done = TrainConfig {
            train_layers: TrainLayers::All,
            ..recipe
        };
        let c = capacity(&done, &verdicts(Severity::Low), &ctx(2700, 0.0), 11);
        assert!(c.proposals.is_empty());
        assert!(c.not_tried[0].contains("already"));
    }

    #[test]
    fn the_top_half_follows_a_top_layer_fine_tune_on_small_data_whatever_its_verdicts() {
        let top1 = TrainConfig {
            train_layers: TrainLayers::Top(1),
            ..TrainConfig::default()
        };
        let half = half_layers(&top1, &ctx(300, 0.0), 11).expect("300 rows");
        assert_eq!(half.config.train_layers, TrainLayers::Top(3));
        assert_eq!(half.name, "top3");
        assert!(half.why.contains("300 training rows"), "{}", half.why);
        assert!(
            half_layers(&top1, &ctx(2700, 0.0), 11).is_none(),
            "every layer's turn"
        );
        assert!(
            half_layers(&half.config, &ctx(300, 0.0), 12).is_none(),
            "done"
        );
    }

    #[test]
    fn cut_texts_ask_for_a_longer_window_whatever_the_verdicts() {
        let recipe = TrainConfig::default();
        let c = capacity(&recipe, &verdicts(Severity::High), &ctx(350, 1.0), 3);
        assert_eq!(names(&c), ["longer-inputs"]);
        assert_eq!(c.proposals[0].config.max_len, 256);
        assert!(c.proposals[0]
            .why
            .contains("100% of the training texts fill 128"));
        let longest = TrainConfig {
            max_len: 512,
            train_layers: TrainLayers::Top(3),
            ..recipe
        };
        let c = capacity(&longest, &verdicts(Severity::Low), &ctx(350, 1.0), 3);
        assert!(c.proposals.is_empty());
        assert!(c
            .not_tried
            .last()
            .unwrap()
            .contains("the most the model takes"));
    }
}
