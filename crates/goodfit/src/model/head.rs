//! The classification head on top of the pooled vector.

use candle_core::Tensor;

use crate::error::Result;

use super::config::HeadActivation;
use super::dropout::Mode;
use super::linear::Linear;
use super::params::Params;

/// Dropout, an optional hidden layer (dense + tanh, or ReLU for DistilBERT, + dropout), and
/// a linear layer to one logit per class.
///
/// Without a hidden layer the weights are named `classifier.weight`/`classifier.bias`, as in
/// Hugging Face's `BertForSequenceClassification`; with one, `classifier.dense.*` and
/// `classifier.out_proj.*`, as in its RoBERTa head (DistilBERT's `pre_classifier` and
/// `classifier` are renamed to these on loading).
pub struct Head {
    hidden: Option<Linear>,
    activation: HeadActivation,
    out: Linear,
    dropout: f64,
}

impl Head {
    /// Loads the head from `params` if the checkpoint has it, else initialises it.
    pub fn load(
        params: &mut Params,
        inputs: usize,
        hidden: Option<usize>,
        classes: usize,
        dropout: f64,
        activation: HeadActivation,
    ) -> Result<Head> {
        Ok(match hidden {
            None => Head {
                hidden: None,
                activation,
                out: Linear::load(params, "classifier", inputs, classes, true)?,
                dropout,
            },
            Some(width) => Head {
                hidden: Some(Linear::load(
                    params,
                    "classifier.dense",
                    inputs,
                    width,
                    true,
                )?),
                activation,
                out: Linear::load(params, "classifier.out_proj", width, classes, true)?,
                dropout,
            },
        })
    }

    /// A linear head without dropout, `classifier.weight`/`.bias` (an ImageNet model's own
    /// classifier, to check the pretrained model as it was published).
    pub fn linear(
        params: &mut Params,
        inputs: usize,
        classes: usize,
        trainable: bool,
    ) -> Result<Head> {
        Ok(Head {
            hidden: None,
            activation: HeadActivation::Relu,
            out: Linear::load(params, "classifier", inputs, classes, trainable)?,
            dropout: 0.0,
        })
    }

    /// Logits `[batch, classes]` for pooled vectors `[batch, inputs]`.
    pub fn forward(&self, pooled: &Tensor, mode: &mut Mode) -> Result<Tensor> {
        let mut x = mode.dropout(pooled, self.dropout)?;
        if let Some(hidden) = &self.hidden {
            x = hidden.forward(&x)?;
            x = match self.activation {
                HeadActivation::Tanh => x.tanh()?,
                HeadActivation::Relu => x.relu()?,
            };
            x = mode.dropout(&x, self.dropout)?;
        }
        self.out.forward(&x)
    }

    /// The width of the hidden layer, if there is one.
    pub fn hidden_width(&self) -> Option<usize> {
        self.hidden.as_ref().map(|h| h.bias.dims1().unwrap_or(0))
    }
}
