//! The `goodfit` command-line program: a thin shell over the `goodfit` library.
//!
//! Every failure is printed as one line on standard error and ends the program with exit
//! status 2; results go to standard output only once they are complete.

mod args;
mod commands;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Training allocates and frees many large tensors per step; mimalloc reuses their pages
/// where the system allocator returns them and faults them in again (measured in
/// BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Fine-tune pretrained models on small labelled datasets, and catch overfitting,
/// underfitting and class imbalance.
#[derive(Debug, Parser)]
#[command(name = "goodfit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Summarise a labelled dataset: classes, imbalance, text lengths, duplicates, leakage.
    Inspect(commands::inspect::InspectArgs),
    /// Score a file of predictions with the full metric suite (as scikit-learn computes it).
    Evaluate(commands::evaluate::EvaluateArgs),
    /// Fine-tune a pretrained text encoder and a classification head on labelled data.
    Train(Box<commands::train::TrainArgs>),
    /// Classify texts with a trained run's model.
    Predict(commands::predict::PredictArgs),
    /// Score a trained run's model on a labelled file.
    Eval(commands::predict::EvalArgs),
    /// Set a finished run's decision rule (tuned cut-off, logit adjustment, argmax) without
    /// training again.
    Decide(commands::decide::DecideArgs),
    /// Say whether a finished run overfits, underfits or is biased by class imbalance.
    Diagnose(commands::diagnose::DiagnoseArgs),
    /// Train on growing fractions of the training set: would more data help?
    LearningCurve(Box<commands::learning_curve::LearningCurveArgs>),
    /// Time training steps and inference batches on fixed shapes; print throughput and memory.
    Bench(commands::bench::BenchArgs),
    /// Over- or under-sample a numeric feature table against class imbalance (SMOTE and
    /// friends, as imbalanced-learn).
    Resample(commands::resample::ResampleArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => commands::inspect::run(&args),
        Command::Evaluate(args) => commands::evaluate::run(&args),
        Command::Train(args) => commands::train::run(&args),
        Command::Predict(args) => commands::predict::run_predict(&args),
        Command::Eval(args) => commands::predict::run_eval(&args),
        Command::Decide(args) => commands::decide::run(&args),
        Command::Diagnose(args) => commands::diagnose::run(&args),
        Command::LearningCurve(args) => commands::learning_curve::run(&args),
        Command::Bench(args) => commands::bench::run(&args),
        Command::Resample(args) => commands::resample::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
