//! From one hidden state per token to one vector per text.

use std::fmt;
use std::str::FromStr;

use candle_core::{Tensor, D};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

use super::linear::Linear;

/// How token states become a text's vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The state of the first token (`[CLS]` or `<s>`).
    Cls,
    /// The mean over real tokens (what sentence-transformers models are trained for).
    Mean,
    /// The element-wise maximum over real tokens.
    Max,
    /// BERT's pooler: tanh(dense(`[CLS]`)), as `BertForSequenceClassification` uses it.
    Pooler,
}

impl Pooling {
    /// The names accepted on the command line.
    pub const CHOICES: &'static str = "cls, mean, max, pooler";

    /// Pools `hidden` `[batch, seq, h]` with the attention `mask` `[batch, seq]` (f32).
    /// `pooler` is the dense layer of [`Pooling::Pooler`].
    pub fn apply(self, hidden: &Tensor, mask: &Tensor, pooler: Option<&Linear>) -> Result<Tensor> {
        let cls = || hidden.narrow(1, 0, 1).and_then(|t| t.squeeze(1));
        match self {
            Pooling::Cls => Ok(cls()?),
            Pooling::Pooler => {
                let dense = pooler.ok_or_else(|| {
                    Error::Invalid("pooler pooling needs the pooler layer".into())
                })?;
                Ok(dense.forward(&cls()?)?.tanh()?)
            }
            Pooling::Mean => {
                let mask = mask.unsqueeze(D::Minus1)?;
                let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
                let counts = mask.sum(1)?.clamp(1e-9, f64::INFINITY)?;
                Ok(summed.broadcast_div(&counts)?)
            }
            Pooling::Max => {
                // Padding gets a large negative value so it never wins the maximum.
                let penalty = ((mask.unsqueeze(D::Minus1)? - 1.0)? * 1e9)?;
                Ok(hidden.broadcast_add(&penalty)?.max(1)?)
            }
        }
    }
}

impl FromStr for Pooling {
    type Err = Error;
    fn from_str(text: &str) -> Result<Pooling> {
        match text {
            "cls" => Ok(Pooling::Cls),
            "mean" => Ok(Pooling::Mean),
            "max" => Ok(Pooling::Max),
            "pooler" => Ok(Pooling::Pooler),
            other => Err(Error::Invalid(format!(
                "unknown pooling '{other}'; choose one of {}",
                Pooling::CHOICES
            ))),
        }
    }
}

impl fmt::Display for Pooling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Pooling::Cls => "cls",
            Pooling::Mean => "mean",
            Pooling::Max => "max",
            Pooling::Pooler => "pooler",
        })
    }
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    #[test]
    fn mean_and_max_ignore_padding() {
        let hidden = Tensor::new(&[[[1f32, 10.], [3., -2.], [100., 100.]]], &Device::Cpu).unwrap();
        let mask = Tensor::new(&[[1f32, 1., 0.]], &Device::Cpu).unwrap();
        let mean: Vec<Vec<f32>> = Pooling::Mean
            .apply(&hidden, &mask, None)
            .unwrap()
            .to_vec2()
            .unwrap();
        assert_eq!(mean, [[2.0, 4.0]]);
        let max: Vec<Vec<f32>> = Pooling::Max
            .apply(&hidden, &mask, None)
            .unwrap()
            .to_vec2()
            .unwrap();
        assert_eq!(max, [[3.0, 10.0]]);
        let cls: Vec<Vec<f32>> = Pooling::Cls
            .apply(&hidden, &mask, None)
            .unwrap()
            .to_vec2()
            .unwrap();
        assert_eq!(cls, [[1.0, 10.0]]);
        assert!("avg"
            .parse::<Pooling>()
            .unwrap_err()
            .to_string()
            .contains("cls, mean, max, pooler"));
    }
}
