//! `goodfit bench`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use goodfit::data::{ColumnSpec, Dataset, Inputs, ReadOptions};
use goodfit::model::{encode_texts, load_tokenizer, resolve_model, Pooling, TrainLayers};
use goodfit::train::bench::{bench, BenchConfig, BenchReport};
use goodfit::train::padding::padding_report;

use crate::args::{print, to_json};

/// Flags of `goodfit bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A Hugging Face model folder or hub id.
    #[arg(long)]
    model: String,
    /// Examples per batch.
    #[arg(long, default_value_t = 16, value_parser = super::at_least_one)]
    batch_size: usize,
    /// Tokens per example.
    #[arg(long, default_value_t = 128, value_parser = super::at_least_one)]
    seq_len: usize,
    /// Top encoder layers that train, or `all`.
    #[arg(long, default_value = "all")]
    train_layers: TrainLayers,
    /// Pooling: mean, cls, max or pooler.
    #[arg(long, default_value = "mean")]
    pooling: Pooling,
    /// Timed steps (and inference batches).
    #[arg(long, default_value_t = 5, value_parser = super::at_least_one)]
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
    /// Instead of timing, measure the padding that batching computes on this data file
    /// (CSV, TSV, JSONL or Parquet), tokenised with the model's tokenizer.
    #[arg(long)]
    padding_data: Option<PathBuf>,
    /// The text column of --padding-data.
    #[arg(long, default_value = "text")]
    text_col: String,
    /// The label column of --padding-data.
    #[arg(long, default_value = "label")]
    label_col: String,
    /// Longest input in tokens for --padding-data (longer texts are truncated, as in training).
    #[arg(long, default_value_t = 128, value_parser = super::at_least_one)]
    max_len: usize,
}

/// Runs `goodfit bench`: times inference batches and training steps on random token ids and
/// prints throughput and peak memory. Threads follow `RAYON_NUM_THREADS` (default: every
/// core).
pub fn run(args: &BenchArgs) -> Result<()> {
    if let Some(path) = &args.padding_data {
        return run_padding(args, path);
    }
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
        "batch {} × {}, train layers {}, {} threads, {} timed steps\n\
         inference batch: {}\ntraining step:   {}\n\
         peak memory: {} after inference, {} after training\n",
        args.batch_size,
        report.input,
        args.train_layers,
        report.threads,
        args.steps.max(1),
        per(&report.inference_seconds),
        per(&report.train_step_seconds),
        gib(report.peak_rss_after_inference),
        gib(report.peak_rss_after_training),
    ))
}

/// `goodfit bench --padding-data FILE`: the share of computed token slots that is padding,
/// for random batches, length-grouped training batches and sorted evaluation batches.
fn run_padding(args: &BenchArgs, path: &std::path::Path) -> Result<()> {
    let columns = ColumnSpec {
        text: args.text_col.clone(),
        label: args.label_col.clone(),
        features: None,
    };
    let data = Dataset::read(path, &columns, &ReadOptions::default())?;
    let Inputs::Text(texts) = &data.inputs else {
        bail!("{}: no text column", path.display())
    };
    let tokenizer = load_tokenizer(&resolve_model(&args.model)?)?;
    let lengths: Vec<usize> = encode_texts(&tokenizer, texts, args.max_len)?
        .iter()
        .map(Vec::len)
        .collect();
    let report = padding_report(&lengths, args.batch_size.max(1), args.seed);
    if args.json {
        return print(&to_json(&report)?);
    }
    let line = |name: &str, slots: usize| {
        format!(
            "{name:<32} {slots:>9} slots, {:>5.1}% padding, {:.2}× the real tokens\n",
            100.0 * report.padding_fraction(slots),
            slots as f64 / report.tokens.max(1) as f64
        )
    };
    print(&format!(
        "{}: {} examples, {} tokens (max {}), batches of {}\n{}{}{}",
        path.display(),
        report.examples,
        report.tokens,
        args.max_len,
        args.batch_size.max(1),
        line("random batches", report.random_slots),
        line("length-grouped (training)", report.grouped_slots),
        line("sorted by length (evaluation)", report.sorted_slots),
    ))
}
