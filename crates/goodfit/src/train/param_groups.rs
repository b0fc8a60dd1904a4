//! The optimizer's parameter groups: which weights decay, and each weight's learning rate.

use std::collections::BTreeMap;

use candle_core::Var;

use crate::model::{Part, Places};

use super::config::TrainConfig;
use super::optimizer::ParamGroup;

/// Parameter groups as Hugging Face fine-tuning sets them: no weight decay on biases and
/// LayerNorm weights, and the head (with the pooler) at its own learning rate.
///
/// With `layer_lr_decay` γ below 1 (Sun et al. 2019, "How to Fine-Tune BERT for Text
/// Classification"), encoder layer `i` trains at `lr · γ^(top − i)`, where `top` is the
/// highest layer that trains, and the embeddings at `lr · γ^(top + 1)`: the lower layers,
/// which hold the more general features, move less.
pub fn param_groups(
    vars: &BTreeMap<String, Var>,
    places: &Places,
    config: &TrainConfig,
) -> Vec<ParamGroup> {
    let top = top_block(vars, places);
    let mut groups: Vec<ParamGroup> = Vec::new();
    for (name, var) in vars {
        let place = &places[name];
        let decay = place.decays;
        let (part, lr) = if place.with_head() {
            ("head".to_string(), config.head_lr)
        } else if config.layer_lr_decay == 1.0 {
            ("encoder".to_string(), config.lr)
        } else {
            let depth = place.depth_below(top);
            (
                format!("encoder_depth{depth}"),
                config.lr * config.layer_lr_decay.powi(depth as i32),
            )
        };
        let group_name = format!("{part}{}", if decay { "" } else { "_no_decay" });
        match groups.iter_mut().find(|g| g.name == group_name) {
            Some(group) => group.params.push((name.clone(), var.clone())),
            None => groups.push(ParamGroup {
                name: group_name,
                params: vec![(name.clone(), var.clone())],
                lr,
                weight_decay: if decay { config.weight_decay } else { 0.0 },
            }),
        }
    }
    groups
}

/// The weights that stay still in `epoch` (1-based) under gradual unfreezing (Howard &
/// Ruder 2018, ULMFiT): the first epoch trains the head alone, each later one unfreezes the
/// next block down, so the block `depth` steps below the top (the stem one step below
/// block 0) trains from epoch `depth + 2`. The head and its side always train.
pub fn still_in_epoch<'a>(
    vars: &'a BTreeMap<String, Var>,
    places: &Places,
    epoch: usize,
) -> Vec<&'a Var> {
    let top = top_block(vars, places);
    vars.iter()
        .filter(|(name, _)| {
            let place = &places[*name];
            !place.with_head() && place.depth_below(top) + 2 > epoch
        })
        .map(|(_, var)| var)
        .collect()
}

/// The highest block among the trainable weights `vars`.
fn top_block(vars: &BTreeMap<String, Var>, places: &Places) -> Option<usize> {
    vars.keys()
        .filter_map(|n| match places[n].part {
            Part::Block(i) => Some(i),
            _ => None,
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    fn vars(names: &[&str]) -> BTreeMap<String, Var> {
        names
            .iter()
            .map(|n| {
                let t = Tensor::zeros(2, candle_core::DType::F32, &Device::Cpu).unwrap();
                (n.to_string(), Var::from_tensor(&t).unwrap())
            })
            .collect()
    }

    /// The BERT family's places of `vars`' names.
    fn places(vars: &BTreeMap<String, Var>) -> Places {
        vars.keys()
            .map(|n| (n.clone(), crate::model::text_encoder::place(n)))
            .collect()
    }

    fn lr_of(groups: &[ParamGroup], name: &str) -> f64 {
        groups
            .iter()
            .find(|g| g.params.iter().any(|(n, _)| n == name))
            .unwrap()
            .lr
    }

    #[test]
    fn gradual_unfreezing_frees_one_layer_down_per_epoch_after_the_head() {
        let names = [
            "embeddings.word_embeddings.weight",
            "encoder.layer.4.output.dense.weight",
            "encoder.layer.5.output.dense.weight",
            "encoder.layer.5.output.dense.bias",
            "pooler.dense.weight",
            "classifier.weight",
        ];
        let vars = vars(&names);
        let places = places(&vars);
        let still = |epoch: usize| -> Vec<&str> {
            let still = still_in_epoch(&vars, &places, epoch);
            vars.iter()
                .filter(|(_, v)| still.iter().any(|s| s.id() == v.id()))
                .map(|(n, _)| n.as_str())
                .collect()
        };
        assert_eq!(still(1).len(), 4, "the head alone trains first");
        assert_eq!(
            still(2),
            [
                "embeddings.word_embeddings.weight",
                "encoder.layer.4.output.dense.weight"
            ]
        );
        // The embeddings sit one step below layer 0: with six layers, from epoch 8.
        assert_eq!(still(7), ["embeddings.word_embeddings.weight"]);
        assert!(still(8).is_empty());
    }

    #[test]
    fn layer_decay_scales_each_layer_below_the_top() {
        let names = [
            "embeddings.word_embeddings.weight",
            "encoder.layer.4.output.dense.weight",
            "encoder.layer.4.output.LayerNorm.weight",
            "encoder.layer.5.output.dense.weight",
            "classifier.weight",
        ];
        let config = TrainConfig {
            lr: 1e-4,
            head_lr: 1e-3,
            layer_lr_decay: 0.5,
            ..TrainConfig::default()
        };
        let vars = vars(&names);
        let groups = param_groups(&vars, &places(&vars), &config);
        assert_eq!(lr_of(&groups, "encoder.layer.5.output.dense.weight"), 1e-4);
        assert_eq!(lr_of(&groups, "encoder.layer.4.output.dense.weight"), 5e-5);
        assert_eq!(
            lr_of(&groups, "encoder.layer.4.output.LayerNorm.weight"),
            5e-5
        );
        // One step below layer 0: 1e-4 · 0.5^6.
        assert_eq!(
            lr_of(&groups, "embeddings.word_embeddings.weight"),
            1.5625e-6
        );
        assert_eq!(lr_of(&groups, "classifier.weight"), 1e-3);
        let no_decay = groups
            .iter()
            .find(|g| g.name == "encoder_depth1_no_decay")
            .unwrap();
        assert_eq!(no_decay.weight_decay, 0.0);

        let plain = param_groups(&vars, &places(&vars), &TrainConfig::default());
        let names: Vec<&str> = plain.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["head", "encoder", "encoder_no_decay"]);
    }
}
