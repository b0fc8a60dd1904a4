//! `goodfit bench`.

use anyhow::Result;
use clap::Args;
use goodfit::model::{Pooling, TrainLayers};
use goodfit::train::bench::{bench, BenchConfig, BenchReport};

use crate::args::{print, to_json};

/// Flags of `goodfit bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A Hugging Face model folder or hub id.
    #[arg(long)]
    model: String,
    /// Examples per batch.
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Tokens per example.
    #[arg(long, default_value_t = 128)]
    seq_len: usize,
    /// Top encoder layers that train, or `all`.
    #[arg(long, default_value = "all")]
    train_layers: TrainLayers,
    /// Pooling: mean, cls, max or pooler.
    #[arg(long, default_value = "mean")]
    pooling: Pooling,
    /// Timed steps (and inference batches).
    #[arg(long, default_value_t = 5)]
    steps: usize,
    /// Untimed steps first.
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// Seed of the random token ids and the head.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the measurements as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `goodfit bench`: times inference batches and training steps on random token ids and
/// prints throughput and peak memory. Threads follow `RAYON_NUM_THREADS` (default: every
/// core).
pub fn run(args: &BenchArgs) -> Result<()> {
    let report = bench(&BenchConfig {
        model: args.model.clone(),
        batch_size: args.batch_size,
        seq_len: args.seq_len,
        train_layers: args.train_layers,
        pooling: args.pooling,
        steps: args.steps.max(1),
        warmup: args.warmup,
        seed: args.seed,
    })?;
    if args.json {
        return print(&to_json(&report)?);
    }
    let per = |seconds: &[f64]| {
        let median = BenchReport::median(seconds);
        format!(
            "{median:.3} s median ({:.1} examples/s; fastest {:.3} s)",
            args.batch_size as f64 / median,
            seconds.iter().copied().fold(f64::INFINITY, f64::min)
        )
    };
    let gib = |bytes: Option<u64>| {
        bytes.map_or("unknown".into(), |b| {
            format!("{:.2} GiB", b as f64 / 1024f64.powi(3))
        })
    };
    print(&format!(
        "batch {} × {} tokens, train layers {}, {} threads, {} timed steps\n\
         inference batch: {}\ntraining step:   {}\n\
         peak memory: {} after inference, {} after training\n",
        args.batch_size,
        args.seq_len,
        args.train_layers,
        report.threads,
        args.steps.max(1),
        per(&report.inference_seconds),
        per(&report.train_step_seconds),
        gib(report.peak_rss_after_inference),
        gib(report.peak_rss_after_training),
    ))
}
