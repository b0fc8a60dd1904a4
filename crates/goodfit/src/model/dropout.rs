//! Dropout with goodfit's own seeded random numbers.
//!
//! candle's CPU device cannot be seeded, so `candle_nn::ops::dropout` would make runs
//! irreproducible. Here the mask is drawn from a ChaCha generator the trainer seeds, and the
//! product with a constant mask carries the gradient.

use candle_core::Tensor;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::error::Result;

/// Whether a forward pass is training (dropout on) or evaluating, and the random numbers
/// training draws from.
pub struct Mode {
    /// `Some` while training: dropout draws its masks from it.
    rng: Option<ChaCha8Rng>,
}

impl Mode {
    /// Evaluation: no dropout.
    pub fn eval() -> Mode {
        Mode { rng: None }
    }

    /// Training, with dropout masks drawn from `rng`.
    pub fn train(rng: ChaCha8Rng) -> Mode {
        Mode { rng: Some(rng) }
    }

    /// Whether this is a training pass.
    pub fn is_training(&self) -> bool {
        self.rng.is_some()
    }

    /// Inverted dropout: zeroes each value with probability `p` and scales the rest by
    /// 1/(1 − p), as `torch.nn.Dropout` does. The identity in evaluation or when `p` is 0.
    pub fn dropout(&mut self, x: &Tensor, p: f64) -> Result<Tensor> {
        let Some(rng) = self.rng.as_mut() else {
            return Ok(x.clone());
        };
        if p <= 0.0 {
            return Ok(x.clone());
        }
        let keep = 1.0 - p;
        let scale = (1.0 / keep) as f32;
        let mask: Vec<f32> = (0..x.elem_count())
            .map(|_| {
                if rng.random::<f64>() < keep {
                    scale
                } else {
                    0.0
                }
            })
            .collect();
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
        Ok(x.mul(&mask)?)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Var};
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn dropout_is_seeded_scaled_and_differentiable() {
        let x = Var::from_tensor(
            &Tensor::ones((100, 100), candle_core::DType::F32, &Device::Cpu).unwrap(),
        )
        .unwrap();
        let mut mode = Mode::train(ChaCha8Rng::seed_from_u64(1));
        let y = mode.dropout(x.as_tensor(), 0.25).unwrap();
        let values: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
        let zeros = values.iter().filter(|&&v| v == 0.0).count();
        assert!(
            (2300..2700).contains(&zeros),
            "about a quarter dropped: {zeros}"
        );
        assert!(values
            .iter()
            .all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-6));
        let again = Mode::train(ChaCha8Rng::seed_from_u64(1))
            .dropout(x.as_tensor(), 0.25)
            .unwrap();
        assert_eq!(
            values,
            again.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        );
        let grads = y.sum_all().unwrap().backward().unwrap();
        let grad: Vec<f32> = grads
            .get(&x)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap();
        assert_eq!(grad, values, "d(sum)/dx is the mask");
        let eval = Mode::eval().dropout(x.as_tensor(), 0.25).unwrap();
        assert_eq!(eval.sum_all().unwrap().to_scalar::<f32>().unwrap(), 10000.0);
    }
}
