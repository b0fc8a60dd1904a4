//! `goodfit decide`.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use goodfit::metrics::text_report;
use goodfit::pipeline::redecide as redecide_run;
use goodfit::train::decide::summarise_decision;

use crate::args::print;

/// Flags of `goodfit decide`.
#[derive(Debug, Args)]
pub struct DecideArgs {
    /// The run folder of a finished `goodfit train`.
    run: PathBuf,
    /// Tune the decision rule on the validation set for f1, f1_macro, balanced_accuracy,
    /// youden or cost:FILE (as `train --tune-threshold`).
    #[arg(long, value_name = "OBJECTIVE", conflicts_with_all = ["logit_adjust", "argmax"])]
    tune_threshold: Option<String>,
    /// Post-hoc logit adjustment with this τ (as `train --logit-adjust`).
    #[arg(long, value_name = "TAU", conflicts_with = "argmax")]
    logit_adjust: Option<f64>,
    /// Remove the decision rule: predict the most probable class.
    #[arg(long)]
    argmax: bool,
}

/// Runs `goodfit decide`: sets a finished run's decision rule from its saved validation
/// probabilities, without training again, and rewrites its metrics, model description,
/// diagnosis and report.
pub fn run(args: &DecideArgs) -> Result<()> {
    if args.tune_threshold.is_none() && args.logit_adjust.is_none() && !args.argmax {
        bail!("say what to decide by: --tune-threshold OBJECTIVE, --logit-adjust TAU or --argmax");
    }
    let objective = args.tune_threshold.as_deref().map(str::parse).transpose()?;
    let decided = redecide_run(&args.run, objective, args.logit_adjust)?;
    let mut text = match &decided.doc {
        Some(doc) => format!("{}\n", summarise_decision(doc)),
        None => "decision rule: argmax\n".to_string(),
    };
    text += &format!("\nvalidation:\n{}", text_report(&decided.val));
    if let Some(test) = &decided.test {
        text += &format!("\ntest:\n{}", text_report(test));
    }
    print(&text)
}
