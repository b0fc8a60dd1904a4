//! Weight statistics per layer: size, spread, a histogram, the drift from the starting
//! weights, and how much each epoch changed them.

use std::collections::BTreeMap;

use candle_core::{DType, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::Result;

use super::backbone::{Part, Places};

/// Histogram bins per layer.
pub const BINS: usize = 30;
/// Drift above this share of the starting weights' norm suggests the pretrained knowledge is
/// being overwritten (catastrophic forgetting).
pub const EXTREME_DRIFT: f64 = 0.5;

/// A histogram: `edges` has one more entry than `counts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Bin edges, ascending.
    pub edges: Vec<f64>,
    /// Values per bin.
    pub counts: Vec<u64>,
}

/// One layer's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerStats {
    /// `embeddings`, `encoder.layer.N`, `pooler` or `classifier`.
    pub name: String,
    /// Whether the layer trained.
    pub trainable: bool,
    /// Number of weights.
    pub params: usize,
    /// L2 norm of all its weights.
    pub l2_norm: f64,
    /// Mean weight.
    pub mean: f64,
    /// Standard deviation of the weights.
    pub std: f64,
    /// ‖θ − θ₀‖ / ‖θ₀‖ against the weights training started from.
    pub drift: Option<f64>,
    /// The distribution of its weights.
    pub histogram: Histogram,
    /// ‖θ_e − θ_(e−1)‖ / ‖θ_(e−1)‖ for each epoch e.
    pub update_ratio: Vec<f64>,
}

/// Statistics of every layer, with plain-word flags (`weights.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightReport {
    /// Layers from the embeddings up to the head.
    pub layers: Vec<LayerStats>,
    /// Layers that drifted extremely, or did not move though meant to train.
    pub flags: Vec<String>,
}

/// The layer `name` belongs to, as `places` says (a weight it does not place is a layer
/// of its own).
fn layer_of(places: &Places, name: &str) -> String {
    places
        .get(name)
        .map_or_else(|| name.to_string(), |p| p.layer.clone())
}

fn values(tensor: &Tensor) -> Result<Vec<f64>> {
    Ok(tensor
        .to_dtype(DType::F64)?
        .flatten_all()?
        .to_vec1::<f64>()?)
}

/// Squared L2 distance and squared norm of `b`, summed over the weights of a layer.
fn distance(a: &[&Tensor], b: &[&Tensor]) -> Result<(f64, f64)> {
    let mut diff = 0.0;
    let mut base = 0.0;
    for (x, y) in a.iter().zip(b) {
        diff += (*x - *y)?
            .to_dtype(DType::F64)?
            .sqr()?
            .sum_all()?
            .to_scalar::<f64>()?;
        base += y
            .to_dtype(DType::F64)?
            .sqr()?
            .sum_all()?
            .to_scalar::<f64>()?;
    }
    Ok((diff, base))
}

/// The per-layer update ratio between two snapshots of the trainable weights.
pub fn update_ratios(
    now: &BTreeMap<String, Tensor>,
    before: &BTreeMap<String, Tensor>,
    places: &Places,
) -> Result<BTreeMap<String, f64>> {
    let mut sums: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (name, tensor) in now {
        if let Some(previous) = before.get(name) {
            let (diff, base) = distance(&[tensor], &[previous])?;
            let entry = sums.entry(layer_of(places, name)).or_default();
            entry.0 += diff;
            entry.1 += base;
        }
    }
    Ok(sums
        .into_iter()
        .map(|(layer, (d, b))| (layer, (d / b.max(1e-30)).sqrt()))
        .collect())
}

/// Statistics of `weights` (all of the model's, by canonical name) against `start` (the
/// weights training started from), with `trainable` naming the weights that trained,
/// `updates` the per-epoch update ratios of each layer and `places` where each weight sits
/// (layers are listed from the input up).
pub fn weight_report(
    weights: &BTreeMap<String, Tensor>,
    start: &BTreeMap<String, Tensor>,
    trainable: &[String],
    updates: &[BTreeMap<String, f64>],
    places: &Places,
) -> Result<WeightReport> {
    let mut layers: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    let mut parts: BTreeMap<String, Part> = BTreeMap::new();
    for name in weights.keys() {
        let layer = layer_of(places, name);
        let part = places.get(name).map_or(Part::Head, |p| p.part.clone());
        parts.entry(layer.clone()).or_insert(part);
        layers.entry(layer).or_default().push(name);
    }
    let mut names: Vec<String> = layers.keys().cloned().collect();
    names.sort_by(|a, b| parts[a].cmp(&parts[b]));
    let mut report = WeightReport {
        layers: Vec::new(),
        flags: Vec::new(),
    };
    for layer in names {
        let members = &layers[&layer];
        let mut all = Vec::new();
        for name in members {
            all.extend(values(&weights[*name])?);
        }
        let n = all.len().max(1) as f64;
        let mean = all.iter().sum::<f64>() / n;
        let std = (all.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
        let l2_norm = all.iter().map(|v| v * v).sum::<f64>().sqrt();
        let is_trainable = members.iter().any(|m| trainable.contains(m));
        let now: Vec<&Tensor> = members
            .iter()
            .filter(|m| start.contains_key(**m))
            .map(|m| &weights[*m])
            .collect();
        let then: Vec<&Tensor> = members.iter().filter_map(|m| start.get(*m)).collect();
        let drift = if then.is_empty() {
            None
        } else {
            let (diff, base) = distance(&now, &then)?;
            Some((diff / base.max(1e-30)).sqrt())
        };
        if let Some(d) = drift {
            // A new head starts from random weights: drifting away from them is its job,
            // and it holds no pretrained knowledge to lose.
            if d > EXTREME_DRIFT && parts[&layer] != Part::Head {
                report.flags.push(format!("{layer} drifted {:.0}% from its starting weights: the pretrained knowledge may be overwritten; lower --lr or train fewer layers", d * 100.0));
            }
            if is_trainable && d == 0.0 {
                report.flags.push(format!("{layer} is meant to train but did not change at all: its gradient may be cut off"));
            }
        }
        report.layers.push(LayerStats {
            name: layer.clone(),
            trainable: is_trainable,
            params: all.len(),
            l2_norm,
            mean,
            std,
            drift,
            histogram: histogram(&all),
            update_ratio: updates
                .iter()
                .map(|u| u.get(&layer).copied().unwrap_or(0.0))
                .collect(),
        });
    }
    Ok(report)
}

/// A histogram of `values` over [`BINS`] equal bins from their minimum to their maximum.
fn histogram(values: &[f64]) -> Histogram {
    let min = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let max = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    if !min.is_finite() {
        return Histogram {
            edges: Vec::new(),
            counts: Vec::new(),
        };
    }
    let width = ((max - min) / BINS as f64).max(1e-12);
    let edges = (0..=BINS).map(|i| min + width * i as f64).collect();
    let mut counts = vec![0u64; BINS];
    for v in values {
        counts[(((v - min) / width) as usize).min(BINS - 1)] += 1;
    }
    Histogram { edges, counts }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;
    use crate::model::text_encoder::place;

    /// The BERT family's places of `weights`' names.
    fn places(weights: &BTreeMap<String, Tensor>) -> Places {
        weights.keys().map(|n| (n.clone(), place(n))).collect()
    }

    #[test]
    fn drift_and_flags_follow_the_definition() {
        let t = |v: &[f32]| Tensor::new(v, &Device::Cpu).unwrap();
        let start = BTreeMap::from([
            (
                "encoder.layer.0.output.dense.weight".to_string(),
                t(&[3.0, 4.0]),
            ),
            (
                "encoder.layer.1.output.dense.weight".to_string(),
                t(&[1.0, 0.0]),
            ),
        ]);
        let now = BTreeMap::from([
            (
                "encoder.layer.0.output.dense.weight".to_string(),
                t(&[3.0, 4.5]),
            ),
            (
                "encoder.layer.1.output.dense.weight".to_string(),
                t(&[1.0, 0.0]),
            ),
            ("classifier.weight".to_string(), t(&[0.5, -0.5])),
        ]);
        let trainable = vec!["encoder.layer.1.output.dense.weight".to_string()];
        let report = weight_report(&now, &start, &trainable, &[], &places(&now)).unwrap();
        let names: Vec<&str> = report.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["encoder.layer.0", "encoder.layer.1", "classifier"]);
        assert!(
            (report.layers[0].drift.unwrap() - 0.1).abs() < 1e-12,
            "|0.5| / |(3,4)| = 0.1"
        );
        assert_eq!(report.layers[2].drift, None);
        assert_eq!(report.layers[2].histogram.counts.iter().sum::<u64>(), 2);
        assert_eq!(report.flags.len(), 1);
        assert!(report.flags[0].contains("encoder.layer.1 is meant to train but did not change"));
        let ratios = update_ratios(&now, &start, &places(&now)).unwrap();
        assert!((ratios["encoder.layer.0"] - 0.1).abs() < 1e-12);
    }

    #[test]
    fn only_pretrained_layers_are_warned_of_drift() {
        let t = |v: &[f32]| Tensor::new(v, &Device::Cpu).unwrap();
        let start = BTreeMap::from([
            (
                "encoder.layer.0.output.dense.weight".to_string(),
                t(&[1.0, 0.0]),
            ),
            ("classifier.weight".to_string(), t(&[0.01, 0.0])),
        ]);
        let now = BTreeMap::from([
            (
                "encoder.layer.0.output.dense.weight".to_string(),
                t(&[2.0, 0.0]),
            ),
            ("classifier.weight".to_string(), t(&[0.5, -0.5])),
        ]);
        let trainable: Vec<String> = now.keys().cloned().collect();
        let report = weight_report(&now, &start, &trainable, &[], &places(&now)).unwrap();
        assert!(report.layers[1].drift.unwrap() > EXTREME_DRIFT);
        assert_eq!(report.flags.len(), 1, "{:?}", report.flags);
        assert!(report.flags[0].starts_with("encoder.layer.0 drifted 100%"));
    }
}
