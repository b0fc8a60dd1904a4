//! One function per verdict: the changes that answer it on a trial run with `c`, most
//! promising first, each as (trial name, the change in words, the new settings or `None`
//! when it does not apply).

use super::*;

/// A change that answers a verdict.
pub(super) type Answer = (&'static str, String, Option<TrainConfig>);

/// More regularisation, fewer trainable layers, an earlier stop, a lower learning rate.
pub(super) fn overfitting(c: &TrainConfig, ctx: &Context) -> Vec<Answer> {
    let decay = round2((c.weight_decay * 5.0).max(0.05)).min(0.5);
    let dropout = ((c.dropout.unwrap_or(0.1) + 0.1).min(0.5) * 100.0).round() / 100.0;
    let fewer = fewer_layers(c.train_layers, ctx.layers);
    vec![
        (
            "regularise",
            format!("weight decay {decay}, dropout {dropout}"),
            Some(TrainConfig {
                weight_decay: decay,
                dropout: Some(dropout),
                ..c.clone()
            }),
        ),
        (
            "fewer-layers",
            format!("train {} layers", opt_layers(fewer)),
            fewer.map(|train_layers| TrainConfig {
                train_layers,
                ..c.clone()
            }),
        ),
        (
            "stop-earlier",
            "patience 1: stop at the first epoch without improvement".into(),
            (c.patience != 1).then(|| TrainConfig {
                patience: 1,
                ..c.clone()
            }),
        ),
        (
            "lower-lr",
            format!("learning rate {}", round2(c.lr / 2.0)),
            Some(TrainConfig {
                lr: round2(c.lr / 2.0),
                ..c.clone()
            }),
        ),
    ]
}

/// A higher learning rate, more trainable layers, longer inputs (when many texts are cut),
/// more epochs, less regularisation, a hidden layer in the head.
pub(super) fn underfitting(c: &TrainConfig, ctx: &Context) -> Vec<Answer> {
    let more = more_layers(c.train_layers, ctx.layers);
    let window = (c.max_len * 2).min(MAX_WINDOW).min(ctx.positions);
    vec![
        ("higher-lr", lr_change(c, 3.0), higher_lr(c, 3.0)),
        (
            "more-layers",
            format!("train {} layers", opt_layers(more)),
            more.map(|train_layers| TrainConfig {
                train_layers,
                ..c.clone()
            }),
        ),
        (
            "longer-inputs",
            format!(
                "max_len {window}: {:.0}% of the texts fill {} tokens",
                ctx.facts.truncated_share * 100.0,
                c.max_len
            ),
            (ctx.facts.truncating() && window > c.max_len).then(|| TrainConfig {
                max_len: window,
                ..c.clone()
            }),
        ),
        ("more-epochs", epochs_change(c), more_epochs(c)),
        (
            "less-regularisation",
            "no weight decay, L1 or label smoothing, dropout 0.05".into(),
            Some(TrainConfig {
                weight_decay: 0.0,
                l1: 0.0,
                label_smoothing: 0.0,
                dropout: Some(c.dropout.map_or(0.05, |d| d.min(0.05))),
                ..c.clone()
            }),
        ),
        (
            "head-hidden",
            "a hidden layer of 256 in the head".into(),
            c.head_hidden.is_none().then(|| TrainConfig {
                head_hidden: Some(256),
                ..c.clone()
            }),
        ),
    ]
}

/// More epochs, a higher learning rate, more trainable layers.
pub(super) fn not_converged(c: &TrainConfig, ctx: &Context) -> Vec<Answer> {
    let more = more_layers(c.train_layers, ctx.layers);
    vec![
        ("more-epochs", epochs_change(c), more_epochs(c)),
        ("higher-lr", lr_change(c, 2.0), higher_lr(c, 2.0)),
        (
            "more-layers",
            format!("train {} layers", opt_layers(more)),
            more.map(|train_layers| TrainConfig {
                train_layers,
                ..c.clone()
            }),
        ),
    ]
}

/// The remedies of the ladder that apply, in its order.
pub(super) fn imbalance_bias(c: &TrainConfig, ctx: &Context) -> Vec<Answer> {
    Remedy::LADDER
        .iter()
        .filter(|r| r.applies(c))
        .map(|remedy| {
            (
                remedy.name(),
                remedy.describe(&ctx.objective),
                Some(remedy.apply(c, &ctx.objective)),
            )
        })
        .collect()
}

/// A neighbouring learning rate, half and double.
pub(super) fn good_fit(c: &TrainConfig) -> Vec<Answer> {
    [("lr-half", 0.5), ("lr-double", 2.0)]
        .into_iter()
        .map(|(name, factor)| {
            (
                name,
                format!("a neighbouring learning rate, {}", round2(c.lr * factor)),
                Some(TrainConfig {
                    lr: round2(c.lr * factor),
                    ..c.clone()
                }),
            )
        })
        .collect()
}
