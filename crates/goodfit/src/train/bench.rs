//! Training and inference speed on fixed shapes (`goodfit bench`): what a training step and
//! an inference batch cost on this machine, and the peak memory, for comparing with other
//! frameworks on the same shapes (`scripts/bench-vs-torch.sh`).

use std::time::Instant;

use candle_core::Device;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{
    resolve_model, Classifier, ClassifierSpec, Mode, ModelFolder, Params, Pooling, TrainLayers,
};

use super::config::TrainConfig;
use super::loss::{classification_loss, LossSpec};
use super::optimizer::{clip_coefficient, grad_norm, AdamW, AdamWConfig};
use super::param_groups::param_groups;

/// The shapes and settings to measure.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// A model folder or hub id.
    pub model: String,
    /// Examples per batch.
    pub batch_size: usize,
    /// Tokens per example (every example is this long: no padding).
    pub seq_len: usize,
    /// Which layers train.
    pub train_layers: TrainLayers,
    /// The pooling.
    pub pooling: Pooling,
    /// Timed training steps (and inference batches).
    pub steps: usize,
    /// Untimed steps first (allocator and thread-pool warm-up).
    pub warmup: usize,
    /// Seeds the token ids and the head.
    pub seed: u64,
}

/// What was measured.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// One example's input: `128 tokens`, `224×224 pixels`.
    pub input: String,
    /// Threads candle's CPU kernels use.
    pub threads: usize,
    /// Seconds of each timed inference batch (forward only, no gradients).
    pub inference_seconds: Vec<f64>,
    /// Seconds of each timed training step: forward with dropout, loss, backward, gradient
    /// clipping and the AdamW update.
    pub train_step_seconds: Vec<f64>,
    /// The process's peak resident memory after the inference batches, in bytes (Linux).
    pub peak_rss_after_inference: Option<u64>,
    /// The process's peak resident memory after the training steps, in bytes (Linux).
    pub peak_rss_after_training: Option<u64>,
}

impl BenchReport {
    /// The median of `seconds`.
    pub fn median(seconds: &[f64]) -> f64 {
        let mut sorted = seconds.to_vec();
        sorted.sort_by(f64::total_cmp);
        match sorted.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        }
    }
}

/// Measures inference batches, then training steps, of a fresh classifier on random token ids.
pub fn bench(config: &BenchConfig) -> Result<BenchReport> {
    let device = Device::Cpu;
    let folder = ModelFolder::open(&resolve_model(&config.model)?)?;
    if config.seq_len > folder.positions() {
        return Err(Error::Invalid(format!(
            "--seq-len {}: the model takes at most {} positions",
            config.seq_len,
            folder.positions()
        )));
    }
    let mut params =
        Params::load_checkpoint(&folder.weights, folder.architecture, &device, config.seed)?;
    let spec = ClassifierSpec {
        pooling: config.pooling,
        head_hidden: None,
        dropout: None,
        train_layers: config.train_layers,
        classes: 2,
    };
    // A checkpoint's own head (ImageNet's 1,000 classes, another task's) is not benched.
    params.forget_pretrained("classifier.");
    let classifier = Classifier::build(&mut params, &folder.config, folder.architecture, &spec)?;
    let (b, s) = (config.batch_size.max(1), config.seq_len.max(2));
    let inputs = folder.random_inputs(b, s, config.seed, &device)?;
    let targets: Vec<usize> = (0..b).map(|i| i % 2).collect();

    let mut inference_seconds = Vec::new();
    for i in 0..config.warmup + config.steps {
        let start = Instant::now();
        let logits = classifier.forward(&inputs, &mut Mode::eval())?;
        logits.to_vec2::<f32>()?;
        if i >= config.warmup {
            inference_seconds.push(start.elapsed().as_secs_f64());
        }
    }
    let peak_rss_after_inference = peak_rss();

    let train_config = TrainConfig::default();
    let vars = params.vars().clone();
    let places = classifier.places(vars.keys());
    let mut optimizer = AdamW::new(
        param_groups(&vars, &places, &train_config),
        AdamWConfig::default(),
    )?;
    let loss_spec = LossSpec {
        smoothing: 0.0,
        class_weights: None,
        focal_gamma: None,
        logit_offsets: None,
    };
    let mut mode = Mode::train(ChaCha8Rng::seed_from_u64(config.seed));
    let mut train_step_seconds = Vec::new();
    for i in 0..config.warmup + config.steps {
        let start = Instant::now();
        let logits = classifier.forward(&inputs, &mut mode)?;
        let loss = classification_loss(&logits, &targets, &loss_spec)?;
        let grads = loss.backward()?;
        let norm = grad_norm(&grads, vars.values())?;
        let scale = clip_coefficient(norm, train_config.grad_clip)?;
        optimizer.step_with_grad_scale(&grads, 1.0, scale)?;
        if i >= config.warmup {
            train_step_seconds.push(start.elapsed().as_secs_f64());
        }
    }
    let input = match &folder.config {
        crate::model::ModelConfig::Text(_) => format!("{s} tokens"),
        crate::model::ModelConfig::Image(c) => format!("{0}×{0} pixels", c.image_size),
    };
    Ok(BenchReport {
        input,
        threads: candle_core::utils::get_num_threads(),
        inference_seconds,
        train_step_seconds,
        peak_rss_after_inference,
        peak_rss_after_training: peak_rss(),
    })
}

/// The process's peak resident set size (`VmHWM`), where the system reports it.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
