//! The optimizer's parameter groups: which weights decay, and each weight's learning rate.

use std::collections::BTreeMap;

use candle_core::Var;

use super::config::TrainConfig;
use super::optimizer::{hf_weight_decay_applies, ParamGroup};

/// Parameter groups as Hugging Face fine-tuning sets them: no weight decay on biases and
/// LayerNorm weights, and the head (with the pooler) at its own learning rate.
///
/// With `layer_lr_decay` γ below 1 (Sun et al. 2019, "How to Fine-Tune BERT for Text
/// Classification"), encoder layer `i` trains at `lr · γ^(top − i)`, where `top` is the
/// highest layer that trains, and the embeddings at `lr · γ^(top + 1)`: the lower layers,
/// which hold the more general features, move less.
pub fn param_groups(vars: &BTreeMap<String, Var>, config: &TrainConfig) -> Vec<ParamGroup> {
    let top = vars.keys().filter_map(|n| layer_index(n)).max();
    let mut groups: Vec<ParamGroup> = Vec::new();
    for (name, var) in vars {
        let head = is_head(name);
        let decay = hf_weight_decay_applies(name);
        let (part, lr) = if head {
            ("head".to_string(), config.head_lr)
        } else if config.layer_lr_decay == 1.0 {
            ("encoder".to_string(), config.lr)
        } else {
            let depth = depth_below(name, top);
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
/// next layer down, so the encoder layer `depth` steps below the top (the embeddings one
/// step below layer 0) trains from epoch `depth + 2`. The head and pooler always train.
pub fn still_in_epoch(vars: &BTreeMap<String, Var>, epoch: usize) -> Vec<&Var> {
    let top = vars.keys().filter_map(|n| layer_index(n)).max();
    vars.iter()
        .filter(|(name, _)| !is_head(name) && depth_below(name, top) + 2 > epoch)
        .map(|(_, var)| var)
        .collect()
}

/// Whether a weight belongs to the head (with the pooler), which trains at its own rate
/// and from the first epoch.
fn is_head(name: &str) -> bool {
    name.starts_with("classifier") || name.starts_with("pooler")
}

/// How many layers an encoder weight sits below `top`, the highest layer that trains; the
/// embeddings are one step below layer 0.
fn depth_below(name: &str, top: Option<usize>) -> usize {
    match (layer_index(name), top) {
        (Some(i), Some(top)) => top - i,
        (None, Some(top)) => top + 1,
        (_, None) => 0,
    }
}

/// The encoder layer a weight belongs to (`encoder.layer.3.…` → 3).
fn layer_index(name: &str) -> Option<usize> {
    name.strip_prefix("encoder.layer.")?
        .split('.')
        .next()?
        .parse()
        .ok()
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
        let still = |epoch: usize| -> Vec<&str> {
            let still = still_in_epoch(&vars, epoch);
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
        let groups = param_groups(&vars(&names), &config);
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

        let plain = param_groups(&vars(&names), &TrainConfig::default());
        let names: Vec<&str> = plain.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["head", "encoder", "encoder_no_decay"]);
    }
}
