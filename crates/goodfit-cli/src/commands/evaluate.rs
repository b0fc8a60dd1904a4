//! `goodfit evaluate`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use goodfit::data::{read_predictions, read_table, PredictionColumns};
use goodfit::metrics;

use crate::args::{parse_labels, print, to_json, ReadArgs};

/// Flags of `goodfit evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The predictions file (CSV, TSV, JSONL or Parquet).
    #[arg(long)]
    predictions: PathBuf,
    /// The true-label column.
    #[arg(long, default_value = "label")]
    label_col: String,
    /// The predicted-label column; without it, the argmax of the probability columns.
    #[arg(long, default_value = "pred")]
    pred_col: String,
    /// The prefix of per-class probability columns (`prob_<label>`).
    #[arg(long, default_value = "prob_")]
    prob_prefix: String,
    /// The classes, comma-separated, in report order (default: the probability columns'
    /// labels, else every label seen, sorted).
    #[arg(long)]
    labels: Option<String>,
    #[command(flatten)]
    read: ReadArgs,
    /// Print every metric as JSON instead of a report.
    #[arg(long)]
    json: bool,
}

/// Runs `goodfit evaluate`.
pub fn run(args: &EvaluateArgs) -> Result<()> {
    let table = read_table(&args.predictions, &args.read.options())?;
    let columns = PredictionColumns {
        label: args.label_col.clone(),
        pred: args.pred_col.clone(),
        prob_prefix: args.prob_prefix.clone(),
    };
    let predictions = read_predictions(&table, &columns, args.labels.as_deref().map(parse_labels))?;
    for warning in &predictions.warnings {
        eprintln!("warning: {warning}");
    }
    let scores = metrics::compute(
        &predictions.y_true,
        &predictions.y_pred,
        predictions.proba.as_deref(),
        &predictions.labels,
    )?;
    if args.json {
        print(&to_json(&scores)?)
    } else {
        print(&metrics::text_report(&scores))
    }
}
