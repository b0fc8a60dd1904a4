//! The training objective: cross-entropy (with label smoothing) plus an optional L1 penalty.

use candle_core::{Tensor, D};

use crate::error::Result;

/// Mean cross-entropy of `logits` `[batch, classes]` against class indices, as
/// `torch.nn.CrossEntropyLoss(label_smoothing=ε)`: the target distribution puts 1 − ε on
/// the true class and spreads ε evenly over all classes.
pub fn cross_entropy(logits: &Tensor, targets: &[usize], smoothing: f64) -> Result<Tensor> {
    let (batch, classes) = logits.dims2()?;
    let mut target = vec![(smoothing / classes as f64) as f32; batch * classes];
    for (row, &class) in targets.iter().enumerate() {
        target[row * classes + class] += (1.0 - smoothing) as f32;
    }
    let target = Tensor::from_vec(target, (batch, classes), logits.device())?;
    // The composed log-softmax carries gradients.
    let log_probs = candle_nn::ops::log_softmax(logits, D::Minus1)?;
    Ok((log_probs.mul(&target)?.sum_all()? * (-1.0 / batch as f64))?)
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

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};

    use super::*;

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
