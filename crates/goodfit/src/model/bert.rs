//! A trainable BERT-family encoder (BERT, MiniLM, RoBERTa, DistilBERT) in candle.
//!
//! Weight names are Hugging Face's, so the same `model.safetensors` loads. Unlike
//! candle-transformers' BERT, every operation here carries gradients (LayerNorm, the attention
//! softmax and bias+GELU are goodfit's own fused kernels) and dropout is real. Frozen layers run without dropout:
//! they act as a fixed feature extractor, which also lets their output be cached.

use candle_core::{DType, Module, Tensor};

use crate::error::Result;

use super::attention_softmax::attention_softmax;
use super::config::{Activation, EncoderConfig};
use super::dropout::Mode;
use super::family::Architecture;
use super::gelu::bias_gelu;
use super::layer_norm::LayerNorm;
use super::linear::Linear;
use super::params::{Init, Params};

/// Which parts of the encoder train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainLayers {
    /// The top `n` encoder layers (0: none, only the head).
    Top(usize),
    /// Every layer and the embeddings.
    All,
}

fn layer_norm(
    params: &mut Params,
    name: &str,
    size: usize,
    eps: f64,
    trainable: bool,
) -> Result<LayerNorm> {
    let weight = params.get(&format!("{name}.weight"), &[size], trainable, Init::Ones)?;
    let bias = params.get(&format!("{name}.bias"), &[size], trainable, Init::Zeros)?;
    Ok(LayerNorm::new(weight, bias, eps))
}

/// Token, position and segment embeddings, summed and normalised.
struct Embeddings {
    word: Tensor,
    position: Tensor,
    /// Segment embeddings, where the model has them (not DistilBERT).
    token_type: Option<Tensor>,
    norm: LayerNorm,
    position_offset: usize,
    dropout: f64,
    trainable: bool,
}

impl Embeddings {
    fn forward(&self, ids: &Tensor, mode: &mut Mode) -> Result<Tensor> {
        let (batch, seq) = ids.dims2()?;
        let words = self
            .word
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((batch, seq, ()))?;
        let positions = self.position.narrow(0, self.position_offset, seq)?;
        let x = match &self.token_type {
            // Every token is in segment 0 for single-text classification.
            Some(token_type) => {
                let segment = token_type.narrow(0, 0, 1)?;
                words.broadcast_add(&positions.broadcast_add(&segment)?)?
            }
            None => words.broadcast_add(&positions)?,
        };
        let x = self.norm.forward(&x)?;
        if self.trainable {
            mode.dropout(&x, self.dropout)
        } else {
            Ok(x)
        }
    }
}

/// One transformer layer: self-attention and a feed-forward block, each with a residual
/// connection and a LayerNorm after it (BERT's post-norm layout).
struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
    heads: usize,
    activation: Activation,
    hidden_dropout: f64,
    attention_dropout: f64,
    trainable: bool,
}

impl Layer {
    fn load(
        params: &mut Params,
        index: usize,
        config: &EncoderConfig,
        trainable: bool,
        dropout: Option<f64>,
    ) -> Result<Layer> {
        let p = format!("encoder.layer.{index}");
        let h = config.hidden_size;
        let i = config.intermediate_size;
        let eps = config.layer_norm_eps;
        Ok(Layer {
            query: Linear::load(
                params,
                &format!("{p}.attention.self.query"),
                h,
                h,
                trainable,
            )?,
            key: Linear::load(params, &format!("{p}.attention.self.key"), h, h, trainable)?,
            value: Linear::load(
                params,
                &format!("{p}.attention.self.value"),
                h,
                h,
                trainable,
            )?,
            attention_out: Linear::load(
                params,
                &format!("{p}.attention.output.dense"),
                h,
                h,
                trainable,
            )?,
            attention_norm: layer_norm(
                params,
                &format!("{p}.attention.output.LayerNorm"),
                h,
                eps,
                trainable,
            )?,
            intermediate: Linear::load(
                params,
                &format!("{p}.intermediate.dense"),
                h,
                i,
                trainable,
            )?,
            output: Linear::load(params, &format!("{p}.output.dense"), i, h, trainable)?,
            output_norm: layer_norm(params, &format!("{p}.output.LayerNorm"), h, eps, trainable)?,
            heads: config.num_attention_heads,
            activation: config.hidden_act,
            hidden_dropout: dropout.unwrap_or(config.hidden_dropout_prob),
            attention_dropout: dropout.unwrap_or(config.attention_probs_dropout_prob),
            trainable,
        })
    }

    /// `x`: `[batch, seq, hidden]`; `mask_bias`: `[batch, seq]`, 0 for tokens and a
    /// large negative number for padding.
    fn forward(&self, x: &Tensor, mask_bias: &Tensor, mode: &mut Mode) -> Result<Tensor> {
        let (batch, seq, hidden) = x.dims3()?;
        let head_dim = hidden / self.heads;
        let split_heads = |t: Tensor| -> Result<Tensor> {
            Ok(t.reshape((batch, seq, self.heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()?)
        };
        let q = split_heads(self.query.forward(x)?)?;
        let k = split_heads(self.key.forward(x)?)?;
        let v = split_heads(self.value.forward(x)?)?;
        let scale = 1.0 / (head_dim as f64).sqrt();
        let probs = attention_softmax(&q.matmul(&k.t()?)?, mask_bias, scale)?;
        let probs = self.drop(&probs, self.attention_dropout, mode)?;
        let context = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .reshape((batch, seq, hidden))?;
        let attended = self.drop(
            &self.attention_out.forward(&context)?,
            self.hidden_dropout,
            mode,
        )?;
        let x = self.attention_norm.forward(&(attended + x)?)?;

        let inner = match self.activation {
            Activation::Gelu => {
                bias_gelu(&self.intermediate.project(&x)?, &self.intermediate.bias)?
            }
            Activation::GeluTanh => self.intermediate.forward(&x)?.gelu()?,
            Activation::Relu => self.intermediate.forward(&x)?.relu()?,
        };
        let out = self.drop(&self.output.forward(&inner)?, self.hidden_dropout, mode)?;
        Ok(self.output_norm.forward(&(out + x)?)?)
    }

    fn drop(&self, x: &Tensor, p: f64, mode: &mut Mode) -> Result<Tensor> {
        if self.trainable {
            mode.dropout(x, p)
        } else {
            Ok(x.clone())
        }
    }
}

/// The encoder: embeddings and a stack of layers. Produces one hidden state per token.
pub struct Encoder {
    embeddings: Embeddings,
    layers: Vec<Layer>,
    config: EncoderConfig,
}

impl Encoder {
    /// Builds the encoder from `params`, making trainable what `train` says. `dropout`
    /// overrides the config's dropout probabilities in trainable layers.
    pub fn load(
        params: &mut Params,
        config: &EncoderConfig,
        architecture: Architecture,
        train: TrainLayers,
        dropout: Option<f64>,
    ) -> Result<Encoder> {
        let n = config.num_hidden_layers;
        let first_trainable = match train {
            TrainLayers::All => 0,
            TrainLayers::Top(top) => n.saturating_sub(top),
        };
        let embeddings_train = train == TrainLayers::All;
        let h = config.hidden_size;
        let embeddings = Embeddings {
            word: params.get(
                "embeddings.word_embeddings.weight",
                &[config.vocab_size, h],
                embeddings_train,
                Init::Normal(0.02),
            )?,
            position: params.get(
                "embeddings.position_embeddings.weight",
                &[config.max_position_embeddings, h],
                embeddings_train,
                Init::Normal(0.02),
            )?,
            token_type: architecture
                .has_segments()
                .then(|| {
                    params.get(
                        "embeddings.token_type_embeddings.weight",
                        &[config.type_vocab_size, h],
                        embeddings_train,
                        Init::Normal(0.02),
                    )
                })
                .transpose()?,
            norm: layer_norm(
                params,
                "embeddings.LayerNorm",
                h,
                config.layer_norm_eps,
                embeddings_train,
            )?,
            position_offset: architecture.position_offset(config.pad_token_id),
            dropout: dropout.unwrap_or(config.hidden_dropout_prob),
            trainable: embeddings_train,
        };
        let layers = (0..n)
            .map(|i| Layer::load(params, i, config, i >= first_trainable, dropout))
            .collect::<Result<Vec<_>>>()?;
        Ok(Encoder {
            embeddings,
            layers,
            config: config.clone(),
        })
    }

    /// The longest input the position embeddings allow.
    pub fn max_positions(&self) -> usize {
        self.config.max_position_embeddings - self.embeddings.position_offset
    }

    /// The config the encoder was built from.
    pub fn config(&self) -> &EncoderConfig {
        &self.config
    }

    /// Hidden states `[batch, seq, hidden]` for token ids `[batch, seq]` (u32) and an attention
    /// mask `[batch, seq]` (f32, 1 for tokens, 0 for padding).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor, mode: &mut Mode) -> Result<Tensor> {
        let mask_bias = mask_bias(mask)?;
        let mut x = self.embeddings.forward(ids, mode)?;
        for layer in &self.layers {
            x = layer.forward(&x, &mask_bias, mode)?;
        }
        Ok(x)
    }

    /// The number of bottom layers that never train, with frozen embeddings under them: their
    /// output depends on the input alone, so it can be computed once per example. 0 when the
    /// embeddings train.
    pub fn frozen_layers(&self) -> usize {
        if self.embeddings.trainable {
            return 0;
        }
        self.layers.iter().take_while(|l| !l.trainable).count()
    }

    /// The hidden states after the embeddings and the [`frozen_layers`](Self::frozen_layers)
    /// (no dropout runs there).
    pub fn forward_frozen(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let mask_bias = mask_bias(mask)?;
        let mut mode = Mode::eval();
        let mut x = self.embeddings.forward(ids, &mut mode)?;
        for layer in &self.layers[..self.frozen_layers()] {
            x = layer.forward(&x, &mask_bias, &mut mode)?;
        }
        Ok(x)
    }

    /// The rest of [`forward`](Self::forward) from the output of
    /// [`forward_frozen`](Self::forward_frozen): the layers that train.
    pub fn forward_trainable(
        &self,
        frozen: &Tensor,
        mask: &Tensor,
        mode: &mut Mode,
    ) -> Result<Tensor> {
        let mask_bias = mask_bias(mask)?;
        let mut x = frozen.clone();
        for layer in &self.layers[self.frozen_layers()..] {
            x = layer.forward(&x, &mask_bias, mode)?;
        }
        Ok(x)
    }
}

/// `[batch, seq]`: 0 where attended, a large negative number at padding, whose exp() is 0.
fn mask_bias(mask: &Tensor) -> Result<Tensor> {
    Ok(((mask.to_dtype(DType::F32)? - 1.0)? * 1e9)?)
}

impl std::str::FromStr for TrainLayers {
    type Err = crate::Error;
    /// `all`, or a number of top layers (`0` trains only the head).
    fn from_str(text: &str) -> Result<TrainLayers> {
        match text.trim() {
            "all" => Ok(TrainLayers::All),
            n => n.parse().map(TrainLayers::Top).map_err(|_| {
                crate::Error::Invalid(format!(
                    "--train-layers takes a number of top layers or `all`, not '{text}'"
                ))
            }),
        }
    }
}

impl std::fmt::Display for TrainLayers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TrainLayers::All => f.write_str("all"),
            TrainLayers::Top(n) => write!(f, "{n}"),
        }
    }
}
