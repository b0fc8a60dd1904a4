//! `goodfit inspect`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use goodfit::data::{inspect, ColumnSpec, Dataset};
use goodfit::model::load_tokenizer;

use crate::args::{print, to_json, ReadArgs};

/// Flags of `goodfit inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The labelled data file (CSV, TSV, JSONL or Parquet).
    #[arg(long)]
    data: PathBuf,
    /// A test file to compare against: its classes, unseen labels and leakage.
    #[arg(long)]
    test: Option<PathBuf>,
    /// A Hugging Face model folder: text lengths are then counted in its tokens.
    #[arg(long)]
    model: Option<PathBuf>,
    /// The text column.
    #[arg(long, default_value = "text")]
    text_col: String,
    /// The label column.
    #[arg(long, default_value = "label")]
    label_col: String,
    /// Numeric feature columns for tabular data (comma-separated); default: the text column
    /// if there is one, else every numeric column but the label.
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    #[command(flatten)]
    read: ReadArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `goodfit inspect`.
pub fn run(args: &InspectArgs) -> Result<()> {
    let columns = ColumnSpec {
        text: args.text_col.clone(),
        label: args.label_col.clone(),
        features: args.features.clone(),
    };
    let options = args.read.options();
    let data = Dataset::read(&args.data, &columns, &options)?;
    let test = match &args.test {
        Some(path) => Some(Dataset::read(path, &columns, &options)?),
        None => None,
    };
    let tokenizer = match &args.model {
        Some(dir) => Some(load_tokenizer(dir)?),
        None => None,
    };
    let summary = inspect(&data, test.as_ref(), tokenizer.as_ref())?;
    if args.json {
        print(&to_json(&summary)?)
    } else {
        print(&summary.to_string())
    }
}
