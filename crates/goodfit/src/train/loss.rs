//! The training objective: cross-entropy (with label smoothing) plus an optional L1 penalty.

use candle_core::{Tensor, D};

use crate::error::Result;

use super::config::TrainConfig;
use super::imbalance::{class_prior, ClassWeight, LossKind};

/// Everything that shapes the classification loss.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LossSpec {
    /// Label smoothing ε.
    pub smoothing: f64,
    /// Per-class weights (α in focal loss); `None` weighs every class alike.
    pub class_weights: Option<Vec<f64>>,
    /// Focal loss's γ; `None` for plain cross-entropy.
    pub focal_gamma: Option<f64>,
    /// `τ · log π_c` added to the logits before the loss (logit-adjusted loss).
    pub logit_offsets: Option<Vec<f64>>,
}

/// Mean cross-entropy of `logits` `[batch, classes]` against class indices, as
/// `torch.nn.CrossEntropyLoss(label_smoothing=ε)`: the target distribution puts 1 − ε on
/// the true class and spreads ε evenly over all classes.
pub fn cross_entropy(logits: &Tensor, targets: &[usize], smoothing: f64) -> Result<Tensor> {
    classification_loss(
        logits,
        targets,
        &LossSpec {
            smoothing,
            ..LossSpec::default()
        },
    )
}

/// The loss of `logits` `[batch, classes]` against class indices under `spec`.
///
impl LossSpec {
    /// The training objective `config` asks for, on training data with these class counts.
    pub fn of(config: &TrainConfig, counts: &[usize]) -> LossSpec {
        LossSpec {
            smoothing: config.label_smoothing,
            class_weights: (config.class_weight != ClassWeight::None)
                .then(|| config.class_weight.weights(counts)),
            focal_gamma: (config.loss == LossKind::Focal).then_some(config.focal_gamma),
            logit_offsets: (config.loss == LossKind::LogitAdjusted).then(|| {
                class_prior(counts)
                    .iter()
                    .map(|p| config.logit_tau * p.ln())
                    .collect()
            }),
        }
    }
}

/// Per example: the (smoothed) cross-entropy of the (offset) logits, times `(1 − p_t)^γ` for
/// focal loss. Averaged over the batch, or with class weights `w` as
/// `Σ w_(y_i) ℓ_i / Σ w_(y_i)` — torch's `CrossEntropyLoss(weight=w)` when γ is unset.
pub fn classification_loss(logits: &Tensor, targets: &[usize], spec: &LossSpec) -> Result<Tensor> {
    let (batch, classes) = logits.dims2()?;
    let device = logits.device();
    let logits = match &spec.logit_offsets {
        Some(offsets) => {
            let offsets: Vec<f32> = offsets.iter().map(|&o| o as f32).collect();
            logits.broadcast_add(&Tensor::from_vec(offsets, classes, device)?)?
        }
        None => logits.clone(),
    };
    let smoothing = spec.smoothing;
    let mut target = vec![(smoothing / classes as f64) as f32; batch * classes];
    for (row, &class) in targets.iter().enumerate() {
        target[row * classes + class] += (1.0 - smoothing) as f32;
    }
    let target = Tensor::from_vec(target, (batch, classes), device)?;
    // The composed log-softmax carries gradients.
    let log_probs = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
    let mut per_example = (log_probs.mul(&target)?.sum(1)? * -1.0)?;
    if let Some(gamma) = spec.focal_gamma {
        let index = Tensor::from_vec(
            targets.iter().map(|&t| t as u32).collect::<Vec<_>>(),
            (batch, 1),
            device,
        )?;
        let p_true = log_probs.gather(&index, 1)?.squeeze(1)?.exp()?;
        // (1 − p_t)^γ, kept away from 0 so that the power's gradient stays finite.
        let modulation = (p_true.affine(-1.0, 1.0)?.clamp(1e-12, 1.0)?).powf(gamma)?;
        per_example = per_example.mul(&modulation)?;
    }
    Ok(match &spec.class_weights {
        Some(weights) => {
            let w: Vec<f32> = targets.iter().map(|&t| weights[t] as f32).collect();
            let total: f32 = w.iter().sum();
            let w = Tensor::from_vec(w, batch, device)?;
            (per_example.mul(&w)?.sum_all()? * (1.0 / f64::from(total.max(1e-12))))?
        }
        None => (per_example.sum_all()? * (1.0 / batch as f64))?,
    })
}

/// `strength · Σ|w|` over `weights`: the L1 penalty Ω(θ), which pushes weights to exactly 0.
pub fn l1_penalty<'a>(
    weights: impl IntoIterator<Item = &'a Tensor>,
    strength: f64,
) -> Result<Option<Tensor>> {
    let mut total: Option<Tensor> = None;
    for weight in weights {
        let term = weight.abs()?.sum_all()?;
        total = Some(match total {
            Some(sum) => (sum + term)?,
            None => term,
        });
    }
    Ok(match total {
        Some(sum) => Some((sum * strength)?),
        None => None,
    })
}

/// R-Drop's consistency term (Liang et al. 2021): the symmetric KL divergence
/// `(KL(p‖q) + KL(q‖p)) / 2` between the class distributions of two forward passes of the
/// same batch (different dropout), averaged over the batch. The reference code sums
/// `F.kl_div(F.log_softmax(p), F.softmax(q))` both ways and halves it; the batch mean
/// here keeps α independent of the batch size, as `reduction="batchmean"` does.
pub fn symmetric_kl(p_logits: &Tensor, q_logits: &Tensor) -> Result<Tensor> {
    let batch = p_logits.dims2()?.0;
    let log_p = candle_nn::ops::log_softmax(p_logits, D::Minus1)?;
    let log_q = candle_nn::ops::log_softmax(q_logits, D::Minus1)?;
    let diff = (&log_p - &log_q)?;
    // p·(log p − log q) + q·(log q − log p) = (p − q)·(log p − log q)
    let both = (log_p.exp()? - log_q.exp()?)?.mul(&diff)?;
    Ok((both.sum_all()? * (0.5 / batch.max(1) as f64))?)
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

    #[test]
    fn symmetric_kl_matches_the_r_drop_definition() {
        // (F.kl_div(log_softmax(q), softmax(p), reduction="batchmean")
        //  + F.kl_div(log_softmax(p), softmax(q), reduction="batchmean")) / 2
        // for these logits is 0.1591540443 (computed in float64).
        let p = Tensor::new(&[[1.0f32, 2.0, 0.5], [0.0, -1.0, 3.0]], &Device::Cpu).unwrap();
        let q = Tensor::new(&[[0.5f32, 2.5, 0.0], [1.0, -1.0, 2.0]], &Device::Cpu).unwrap();
        let kl = symmetric_kl(&p, &q).unwrap().to_scalar::<f32>().unwrap();
        assert!((kl - 0.159_154_04).abs() < 1e-6, "{kl}");
        let same = symmetric_kl(&p, &p).unwrap().to_scalar::<f32>().unwrap();
        assert!(same.abs() < 1e-7);
    }

    #[test]
    fn matches_torch_cross_entropy_with_label_smoothing() {
        // torch.nn.functional.cross_entropy(torch.tensor([[2., 0.5, -1.], [0.1, 0.2, 0.3]]),
        //     torch.tensor([0, 2])) == 0.6216271; with label_smoothing=0.1: 0.7016271 (torch 2.15)
        let logits = Tensor::new(&[[2f32, 0.5, -1.0], [0.1, 0.2, 0.3]], &Device::Cpu).unwrap();
        let plain = cross_entropy(&logits, &[0, 2], 0.0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        let smooth = cross_entropy(&logits, &[0, 2], 0.1)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        // Closed form: row 0: -log_softmax[0] = 0.24131; row 1: -log_softmax[2] = 1.00194.
        assert!(
            (plain - (0.241_310_3 + 1.001_942_6) / 2.0).abs() < 1e-5,
            "{plain}"
        );
        // Smoothed: 0.9·nll + 0.1·mean(-log p) per row; row 0 mean = 1.74131, row 1 = 1.10194.
        let expected =
            (0.9 * 0.241_310_3 + 0.1 * 1.741_310_3 + 0.9 * 1.001_942_6 + 0.1 * 1.101_942_6) / 2.0;
        assert!((smooth - expected).abs() < 1e-5, "{smooth} vs {expected}");
        assert!((plain - 0.621_627_1).abs() < 1e-6 && (smooth - 0.701_627_1).abs() < 1e-6);
    }

    #[test]
    fn gradient_of_cross_entropy_is_softmax_minus_target() {
        let logits = Var::new(&[[1f32, 2.0]], &Device::Cpu).unwrap();
        let loss = cross_entropy(logits.as_tensor(), &[1], 0.0).unwrap();
        let grad: Vec<Vec<f32>> = loss
            .backward()
            .unwrap()
            .get(&logits)
            .unwrap()
            .to_vec2()
            .unwrap();
        let p0 = 1.0 / (1.0 + 1f32.exp());
        assert!((grad[0][0] - p0).abs() < 1e-6 && (grad[0][1] - (1.0 - p0 - 1.0)).abs() < 1e-6);
    }

    #[test]
    fn class_weights_and_focal_loss_match_torch() {
        // torch 2.15: l = [[2, .5, -1], [.1, .2, .3], [1, -1, 0]], t = [0, 2, 1], w = [.5, 1, 3]
        // F.cross_entropy(l, t, weight=w) == 1.2297978;
        // focal γ=2: mean(-(1-p_t)^2 log p_t) == 0.8019851;
        // with α = w[t]: sum(α (1-p_t)^2 (-log p_t)) / sum(α) == 0.7117609
        let logits = Tensor::new(
            &[[2f32, 0.5, -1.0], [0.1, 0.2, 0.3], [1.0, -1.0, 0.0]],
            &Device::Cpu,
        )
        .unwrap();
        let targets = [0, 2, 1];
        let weights = Some(vec![0.5, 1.0, 3.0]);
        let value = |spec: LossSpec| {
            classification_loss(&logits, &targets, &spec)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
        };
        assert!(
            (value(LossSpec {
                class_weights: weights.clone(),
                ..LossSpec::default()
            }) - 1.229_797_8)
                .abs()
                < 1e-5
        );
        assert!(
            (value(LossSpec {
                focal_gamma: Some(2.0),
                ..LossSpec::default()
            }) - 0.801_985_1)
                .abs()
                < 1e-5
        );
        assert!(
            (value(LossSpec {
                focal_gamma: Some(2.0),
                class_weights: weights,
                ..LossSpec::default()
            }) - 0.711_760_9)
                .abs()
                < 1e-5
        );
        let plain = value(LossSpec::default());
        assert!(
            (value(LossSpec {
                focal_gamma: Some(0.0),
                ..LossSpec::default()
            }) - plain)
                .abs()
                < 1e-6,
            "γ = 0 is cross-entropy"
        );
    }

    #[test]
    fn logit_adjustment_adds_the_scaled_log_prior() {
        let logits = Tensor::new(&[[0f32, 0.0]], &Device::Cpu).unwrap();
        // Offsets τ·log π with π = (0.9, 0.1), τ = 1: the loss of the rare class grows.
        let offsets = Some(vec![0.9f64.ln(), 0.1f64.ln()]);
        let loss = classification_loss(
            &logits,
            &[1],
            &LossSpec {
                logit_offsets: offsets,
                ..LossSpec::default()
            },
        )
        .unwrap();
        assert!((loss.to_scalar::<f32>().unwrap() as f64 - -(0.1f64).ln()).abs() < 1e-6);
    }

    #[test]
    fn l1_sums_absolute_values() {
        let a = Tensor::new(&[1f32, -2.0], &Device::Cpu).unwrap();
        let b = Tensor::new(&[[-0.5f32]], &Device::Cpu).unwrap();
        let penalty = l1_penalty([&a, &b], 0.1)
            .unwrap()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((penalty - 0.35).abs() < 1e-7);
        assert!(l1_penalty([], 0.1).unwrap().is_none());
    }
}
