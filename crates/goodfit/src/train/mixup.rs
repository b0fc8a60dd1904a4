//! Mixup of pooled features: each training batch learns from convex combinations of its
//! examples (Zhang et al. 2018, "mixup: Beyond Empirical Risk Minimization"), mixed where
//! text has a vector to mix, the pooled sentence representation before the head (Guo et
//! al. 2019, "Augmenting Data with Mixup for Sentence Classification", senMixup).
//!
//! As the authors' code does (facebookresearch/mixup-cifar10, `mixup_data` and
//! `mixup_criterion`): one λ ~ Beta(α, α) per batch, a random permutation pairs each example
//! with a partner, the head sees `λ·x + (1 − λ)·x[perm]`, and the loss is
//! `λ·L(ŷ, y) + (1 − λ)·L(ŷ, y[perm])` with whatever loss the run trains with.
//!
//! On pictures the mixing is of pixels, as timm's `Mixup` does: mixup blends whole
//! pictures, CutMix (Yun et al. 2019) pastes a box of the partner's picture whose area is
//! `1 − λ` of the picture (centre uniform, clipped at the edges, λ then recomputed from the
//! box kept: timm's `correct_lam`); with both on, each batch takes one of the two with
//! probability ½ (timm's `switch_prob`).

use candle_core::Tensor;
use rand::seq::SliceRandom;
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};

use crate::error::{Error, Result};

use crate::model::{Classifier, Collator, Example, Mode};

use super::batching::make_batch;
use super::loss::{classification_loss, LossSpec};

/// The backbone's features of training rows `rows` with their pictures mixed by `mix`
/// (the whole backbone runs: mixed pictures have no cached prefix).
pub fn mixed_picture_features(
    classifier: &Classifier,
    encoded: &[Example],
    rows: &[usize],
    mode: &mut Mode,
    collator: &Collator,
    mix: &Mix,
) -> Result<Tensor> {
    let batch = make_batch(encoded, rows, collator)?;
    let mixed = batch
        .inputs
        .with_pictures(|pixels| mix.apply_pixels(pixels))?;
    classifier.backbone().features(&mixed, mode)
}

/// One batch's mixing: the weight of each example and the partner it is mixed with.
#[derive(Debug, Clone, PartialEq)]
pub struct Mix {
    /// The weight of the example itself, drawn from Beta(α, α).
    pub lambda: f64,
    /// For each example in the batch, the position of its partner.
    pub partner: Vec<usize>,
    /// For CutMix, the pasted box: rows `y0..y1`, columns `x0..x1` (None: a blend).
    pub cut: Option<[usize; 4]>,
}

/// How a run mixes pictures: the α of mixup and of CutMix (0: off).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PixelMixing {
    /// Mixup's α.
    pub mixup: f64,
    /// CutMix's α.
    pub cutmix: f64,
}

impl PixelMixing {
    /// Whether any mixing is on.
    pub fn is_on(&self) -> bool {
        self.mixup > 0.0 || self.cutmix > 0.0
    }

    /// The mixing of batch `batch` of `epoch`, `size` pictures of `height` × `width`.
    pub fn draw(
        &self,
        size: usize,
        (height, width): (usize, usize),
        seed: u64,
        epoch: usize,
        batch: usize,
    ) -> Result<Mix> {
        let mut rng = ChaCha8Rng::seed_from_u64(
            seed ^ 0x6375_746D_6978_0000 ^ ((epoch as u64) << 32) ^ batch as u64,
        );
        let use_cutmix = match (self.mixup > 0.0, self.cutmix > 0.0) {
            (true, true) => rng.random::<bool>(),
            (_, cutmix) => cutmix,
        };
        if !use_cutmix {
            return Mix::draw(self.mixup, size, seed, epoch, batch);
        }
        let mut mix = Mix::draw(self.cutmix, size, seed, epoch, batch)?;
        // timm's `rand_bbox`: sides √(1 − λ) of the picture's, centre uniform, clipped.
        let ratio = (1.0 - mix.lambda).sqrt();
        let (cut_h, cut_w) = (
            (height as f64 * ratio) as usize,
            (width as f64 * ratio) as usize,
        );
        let (cy, cx) = (rng.random_range(0..height), rng.random_range(0..width));
        let y0 = cy.saturating_sub(cut_h / 2);
        let y1 = (cy + cut_h / 2).min(height);
        let x0 = cx.saturating_sub(cut_w / 2);
        let x1 = (cx + cut_w / 2).min(width);
        mix.lambda = 1.0 - ((y1 - y0) * (x1 - x0)) as f64 / (height * width) as f64;
        mix.cut = Some([y0, y1, x0, x1]);
        Ok(mix)
    }
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
        Ok(Mix {
            lambda,
            partner,
            cut: None,
        })
    }

    /// The batch's pictures `[batch, 3, h, w]` mixed: blended, or with the box pasted from
    /// the partner.
    pub fn apply_pixels(&self, pixels: &Tensor) -> Result<Tensor> {
        let Some([y0, y1, x0, x1]) = self.cut else {
            return self.apply(pixels);
        };
        let (_, _, h, w) = pixels.dims4()?;
        let index: Vec<u32> = self.partner.iter().map(|&p| p as u32).collect();
        let partners = pixels.index_select(&Tensor::new(index, pixels.device())?, 0)?;
        let inside: Vec<f32> = (0..h * w)
            .map(|i| {
                let (y, x) = (i / w, i % w);
                f32::from(u8::from((y0..y1).contains(&y) && (x0..x1).contains(&x)))
            })
            .collect();
        let mask = Tensor::from_vec(inside, (1, 1, h, w), pixels.device())?;
        let keep = mask.affine(-1.0, 1.0)?;
        Ok((pixels.broadcast_mul(&keep)? + partners.broadcast_mul(&mask)?)?)
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
            cut: None,
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

    #[test]
    fn cutmix_pastes_a_box_whose_area_sets_the_weight() {
        let mixing = PixelMixing {
            mixup: 0.0,
            cutmix: 1.0,
        };
        let mix = mixing.draw(2, (8, 8), 3, 1, 0).unwrap();
        let [y0, y1, x0, x1] = mix.cut.unwrap();
        let area = ((y1 - y0) * (x1 - x0)) as f64;
        assert!((mix.lambda - (1.0 - area / 64.0)).abs() < 1e-12);
        assert_eq!(mix, mixing.draw(2, (8, 8), 3, 1, 0).unwrap(), "seeded");
        let device = Device::Cpu;
        let pixels = Tensor::cat(
            &[
                Tensor::zeros((1, 3, 8, 8), candle_core::DType::F32, &device).unwrap(),
                Tensor::ones((1, 3, 8, 8), candle_core::DType::F32, &device).unwrap(),
            ],
            0,
        )
        .unwrap();
        let mixed = mix.apply_pixels(&pixels).unwrap();
        // The first picture (zeros) gains its partner's ones exactly inside the box, when
        // the partner is the other picture.
        let first: f32 = mixed
            .get(0)
            .unwrap()
            .sum_all()
            .unwrap()
            .to_scalar()
            .unwrap();
        let expected = if mix.partner[0] == 1 { 3.0 * area } else { 0.0 };
        assert_eq!(first as f64, expected);
        // Both on: some batches blend, some paste.
        let both = PixelMixing {
            mixup: 0.4,
            cutmix: 1.0,
        };
        let cuts = (0..40)
            .filter(|&b| both.draw(4, (8, 8), 1, 1, b).unwrap().cut.is_some())
            .count();
        assert!((8..=32).contains(&cuts), "{cuts} of 40");
    }
}
