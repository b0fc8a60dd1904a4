//! `goodfit predict` and `goodfit eval`: using a trained run.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use goodfit::data::image_folder::{image_folder_table, image_list_table};
use goodfit::data::{read_table, write_table, Cell, ColumnSpec, Dataset, Inputs, Label};
use goodfit::decision::{predict_all, DecisionRule};
use goodfit::metrics::{self, text_report};
use goodfit::model::ClassifierInfo;
use goodfit::train::imbalance::class_prior;
use goodfit::train::predictor::Predictor;

use crate::args::{print, to_json, ReadArgs};
use crate::progress::Bars;

/// How `predict` and `eval` turn probabilities into classes.
#[derive(Debug, Args)]
pub struct DecisionArgs {
    /// Post-hoc logit adjustment with this τ, using the training class prior saved with the
    /// model; replaces the saved decision rule.
    #[arg(long, value_name = "TAU", conflicts_with = "argmax")]
    logit_adjust: Option<f64>,
    /// Predict the most probable class, ignoring a decision rule saved with the model.
    #[arg(long)]
    argmax: bool,
}

impl DecisionArgs {
    /// The rule to predict with: the flags', else the saved one, else argmax (`None`).
    fn rule(&self, info: &ClassifierInfo) -> Result<Option<DecisionRule>> {
        if let Some(tau) = self.logit_adjust {
            if !(tau.is_finite() && tau >= 0.0) {
                bail!("--logit-adjust must be zero or positive, not {tau}");
            }
            let counts = &info.class_counts;
            if counts.len() != info.labels.len() {
                bail!("this model was saved without its training class counts: --logit-adjust needs them (retrain with this version)");
            }
            return Ok(Some(DecisionRule::posthoc_adjustment(
                &class_prior(counts),
                tau,
            )));
        }
        Ok(if self.argmax {
            None
        } else {
            info.decision.clone()
        })
    }
}

/// Flags of `goodfit predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The run folder of `goodfit train` (or its model/ folder); a search's run folder
    /// predicts with its ensemble when it chose one.
    #[arg(long)]
    run: PathBuf,
    /// Texts to classify (CSV, TSV, JSONL or Parquet); for an image model, a file with a
    /// column of image paths (relative to it) or a folder of pictures.
    #[arg(long)]
    input: PathBuf,
    /// Where to write the input columns plus `pred` (by the model's decision rule, argmax
    /// when it has none) and `prob_<label>` (CSV or JSONL).
    #[arg(long)]
    output: PathBuf,
    /// The text column [default: the one the model was trained on].
    #[arg(long)]
    text_col: Option<String>,
    /// Texts per batch.
    #[arg(long, default_value_t = 64, value_parser = super::at_least_one)]
    batch_size: usize,
    /// Also write the raw logits as `logit_<label>` columns (for an ensemble, the log of
    /// the averaged probabilities).
    #[arg(long)]
    logits: bool,
    #[command(flatten)]
    decision: DecisionArgs,
    #[command(flatten)]
    read: ReadArgs,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// Runs `goodfit predict`.
pub fn run_predict(args: &PredictArgs) -> Result<()> {
    goodfit::io::refuse_overwriting_input(&args.input, &args.output)?;
    let predictor = Predictor::open(&args.run)?;
    let input_col = args.text_col.as_deref().unwrap_or(&predictor.info.text_col);
    // A folder is a set of pictures to classify (every PNG and JPEG under it).
    let table = if args.input.is_dir() {
        image_list_table(&args.input, input_col)?
    } else {
        read_table(&args.input, &args.read.options())?
    };
    let text_col = table.column(input_col)?;
    let texts: Vec<String> = table
        .rows
        .iter()
        .map(|r| r.cells[text_col].as_text().unwrap_or_default())
        .collect();
    let bars = Bars::new(args.quiet);
    bars.predicting(texts.len() * predictor.members.len());
    let predicted = predictor.predict(&texts, &args.input, args.batch_size.max(1), &mut |n| {
        bars.advance(n)
    })?;
    bars.done();
    let (proba, logits) = (predicted.proba, predicted.logits);
    let predicted = predict_all(&proba, args.decision.rule(&predictor.info)?.as_ref());

    let labels = predictor.info.label_map();
    let mut added = vec!["pred".to_string()];
    added.extend(labels.labels().iter().map(|l| format!("prob_{l}")));
    if args.logits {
        added.extend(labels.labels().iter().map(|l| format!("logit_{l}")));
    }
    // Columns of the input that the predictions replace are dropped from it.
    let kept: Vec<usize> = (0..table.columns.len())
        .filter(|&c| !added.contains(&table.columns[c]))
        .collect();
    let mut columns: Vec<String> = kept.iter().map(|&c| table.columns[c].clone()).collect();
    columns.extend(added);
    let rows: Vec<Vec<Cell>> = table
        .rows
        .iter()
        .zip(proba.iter().zip(&logits).zip(&predicted))
        .map(|(row, ((p, z), &class))| {
            let mut cells: Vec<Cell> = kept.iter().map(|&c| row.cells[c].clone()).collect();
            cells.push(match labels.label(class) {
                Label::Int(i) => Cell::Int(*i),
                Label::Text(t) => Cell::Text(t.clone()),
            });
            cells.extend(p.iter().map(|&v| Cell::Float(v)));
            if args.logits {
                cells.extend(z.iter().map(|&v| Cell::Float(v)));
            }
            cells
        })
        .collect();
    write_table(&args.output, &columns, &rows)?;
    eprintln!(
        "wrote {} predictions to {}",
        rows.len(),
        args.output.display()
    );
    Ok(())
}

/// Flags of `goodfit eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The run folder of `goodfit train` (or its model/ folder); a search's run folder
    /// predicts with its ensemble when it chose one.
    #[arg(long)]
    run: PathBuf,
    /// A labelled file to score the model on.
    #[arg(long)]
    data: PathBuf,
    /// The text column [default: the one the model was trained on].
    #[arg(long)]
    text_col: Option<String>,
    /// The label column [default: the one the model was trained on].
    #[arg(long)]
    label_col: Option<String>,
    /// Texts per batch.
    #[arg(long, default_value_t = 64, value_parser = super::at_least_one)]
    batch_size: usize,
    #[command(flatten)]
    decision: DecisionArgs,
    #[command(flatten)]
    read: ReadArgs,
    /// Print every metric as JSON (the keys of `goodfit evaluate`).
    #[arg(long)]
    json: bool,
}

/// Runs `goodfit eval`.
pub fn run_eval(args: &EvalArgs) -> Result<()> {
    let predictor = Predictor::open(&args.run)?;
    let columns = ColumnSpec {
        text: args
            .text_col
            .clone()
            .unwrap_or_else(|| predictor.info.text_col.clone()),
        label: args
            .label_col
            .clone()
            .unwrap_or_else(|| predictor.info.label_col.clone()),
        features: None,
    };
    let table = if args.data.is_dir() {
        image_folder_table(&args.data, &columns.text, &columns.label)?
    } else {
        read_table(&args.data, &args.read.options())?
    };
    table.column(&columns.text)?;
    let data = Dataset::from_table(&table, &columns)?;
    let Inputs::Text(texts) = &data.inputs else {
        bail!("{}: no text column", args.data.display())
    };
    let labels = predictor.info.label_map();
    let targets = data.class_indices(&labels)?;
    let proba = predictor
        .predict(texts, &args.data, args.batch_size.max(1), &mut |_| {})?
        .proba;
    let predicted = predict_all(&proba, args.decision.rule(&predictor.info)?.as_ref());
    let scores = metrics::compute(&targets, &predicted, Some(&proba), &labels)?;
    if args.json {
        print(&to_json(&scores)?)
    } else {
        print(&text_report(&scores))
    }
}
