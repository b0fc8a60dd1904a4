//! Mixup of pooled features: each training batch learns from convex combinations of its
//! examples (Zhang et al. 2018, "mixup: Beyond Empirical Risk Minimization"), mixed where
//! text has a vector to mix, the pooled sentence representation before the head (Guo et
//! al. 2019, "Augmenting Data with Mixup for Sentence Classification", senMixup).
//!
//! As the authors' code does (facebookresearch/mixup-cifar10, `mixup_data` and
//! `mixup_criterion`): one λ ~ Beta(α, α) per batch, a random permutation pairs each example
//! with a partner, the head sees `λ·x + (1 − λ)·x[perm]`, and the loss is
//! `λ·L(ŷ, y) + (1 − λ)·L(ŷ, y[perm])` with whatever loss the run trains with.

use candle_core::Tensor;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};

use crate::error::{Error, Result};

use super::loss::{classification_loss, LossSpec};

/// One batch's mixing: the weight of each example and the partner it is mixed with.
#[derive(Debug, Clone, PartialEq)]
pub struct Mix {
    /// The weight of the example itself, drawn from Beta(α, α).
    pub lambda: f64,
    /// For each example in the batch, the position of its partner.
    pub partner: Vec<usize>,
}

impl Mix {
    /// The mixing of batch `batch` of `epoch` with `size` examples: seeded by `seed`, so a
    /// resumed run mixes as an uninterrupted one.
    pub fn draw(alpha: f64, size: usize, seed: u64, epoch: usize, batch: usize) -> Result<Mix> {
        let beta =
            Beta::new(alpha, alpha).map_err(|e| Error::Invalid(format!("--mixup {alpha}: {e}")))?;
        let mut rng = ChaCha8Rng::seed_from_u64(
            seed ^ 0x6D69_7875_7000_0000 ^ ((epoch as u64) << 32) ^ batch as u64,
        );
        let lambda = beta.sample(&mut rng);
        let mut partner: Vec<usize> = (0..size).collect();
        partner.shuffle(&mut rng);
        Ok(Mix { lambda, partner })
    }

    /// `λ·x + (1 − λ)·x[partner]` for the batch's pooled vectors `[batch, hidden]`.
    pub fn apply(&self, pooled: &Tensor) -> Result<Tensor> {
        let index: Vec<u32> = self.partner.iter().map(|&p| p as u32).collect();
        let partners = pooled.index_select(&Tensor::new(index, pooled.device())?, 0)?;
        Ok(((pooled * self.lambda)? + (partners * (1.0 - self.lambda))?)?)
    }

    /// `λ·L(logits, y) + (1 − λ)·L(logits, y[partner])`.
    pub fn loss(&self, logits: &Tensor, targets: &[usize], spec: &LossSpec) -> Result<Tensor> {
        let partners: Vec<usize> = self.partner.iter().map(|&p| targets[p]).collect();
        let own = classification_loss(logits, targets, spec)?;
        let other = classification_loss(logits, &partners, spec)?;
        Ok(((own * self.lambda)? + (other * (1.0 - self.lambda))?)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn draws_are_seeded_and_pair_every_example_once() {
        let a = Mix::draw(0.4, 16, 7, 2, 3).unwrap();
        assert_eq!(a, Mix::draw(0.4, 16, 7, 2, 3).unwrap());
        assert_ne!(a, Mix::draw(0.4, 16, 7, 2, 4).unwrap());
        assert!(a.lambda > 0.0 && a.lambda < 1.0);
        let mut partners = a.partner.clone();
        partners.sort_unstable();
        assert_eq!(partners, (0..16).collect::<Vec<_>>());
        // Beta(α, α) has mean 1/2.
        let mean: f64 = (0..2000)
            .map(|b| Mix::draw(0.4, 2, 1, 1, b).unwrap().lambda)
            .sum::<f64>()
            / 2000.0;
        assert!((mean - 0.5).abs() < 0.03, "{mean}");
        assert!(Mix::draw(0.0, 2, 1, 1, 1).is_err());
    }

    #[test]
    fn mixes_vectors_and_losses_with_the_same_weight() {
        let device = Device::Cpu;
        let mix = Mix {
            lambda: 0.75,
            partner: vec![1, 0, 2],
        };
        let pooled = Tensor::new(&[[1f32, 0.0], [0.0, 1.0], [2.0, 2.0]], &device).unwrap();
        let mixed = mix.apply(&pooled).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(mixed, [[0.75, 0.25], [0.25, 0.75], [2.0, 2.0]]);

        let logits = Tensor::new(&[[2f32, 0.0], [0.0, 1.0], [1.0, 1.0]], &device).unwrap();
        let spec = LossSpec::default();
        let targets = [0, 1, 1];
        let got = mix.loss(&logits, &targets, &spec).unwrap();
        // Cross-entropy by hand: -log softmax at the target, averaged over the batch.
        let ce = |row: [f64; 2], t: usize| {
            let norm = (row[0].exp() + row[1].exp()).ln();
            norm - row[t]
        };
        let rows = [[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let own = (ce(rows[0], 0) + ce(rows[1], 1) + ce(rows[2], 1)) / 3.0;
        let other = (ce(rows[0], 1) + ce(rows[1], 0) + ce(rows[2], 1)) / 3.0;
        let expected = 0.75 * own + 0.25 * other;
        assert!((got.to_scalar::<f32>().unwrap() as f64 - expected).abs() < 1e-6);
    }
}
