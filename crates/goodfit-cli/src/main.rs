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

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_e` (the Rust bindings name the
/// options around it, `eager_commit_delay` = 14 and `use_numa_nodes` = 16, but not this one).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Tells mimalloc never to hand freed pages back to the kernel. By default it returns them
/// after 10 ms, and a training step, which frees and reallocates the same large activation
/// buffers every step, then faults them in and zeroes them again: 130,000 page faults in a
/// 4-step benchmark against 2,300 with this (BENCHMARKS.md). Peak memory is unchanged; it
/// is only kept until exit. `MIMALLOC_PURGE_DELAY` in the environment still wins.
fn keep_freed_pages() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set only stores an integer in mimalloc's option table; 15 is a
        // valid option index and -1 a documented value ("no purging at all").
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
}

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
    /// Find probably mislabelled, duplicated, leaked and out-of-place rows (confident
    /// learning on out-of-fold probabilities, neighbours in the encoder's embedding space).
    Audit(Box<commands::audit::AuditArgs>),
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
    /// Learning-rate range test: sweep the learning rate over one short run, plot the loss
    /// and suggest a rate (fastai's valley rule).
    LrFind(Box<commands::lr_find::LrFindArgs>),
    /// Average the weights of several fine-tunes of one model into one (a greedy model
    /// soup, Wortsman et al. 2022).
    Soup(commands::soup::SoupArgs),
    /// Time training steps and inference batches on fixed shapes; print throughput and memory.
    Bench(commands::bench::BenchArgs),
    /// Turn a PyTorch checkpoint (`.pth`) into a model folder goodfit reads, without running
    /// any code in it.
    ImportWeights(commands::import_weights::ImportWeightsArgs),
    /// Over- or under-sample a numeric feature table against class imbalance (SMOTE and
    /// friends, as imbalanced-learn).
    Resample(commands::resample::ResampleArgs),
}

fn main() -> ExitCode {
    keep_freed_pages();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inspect(args) => commands::inspect::run(&args),
        Command::Audit(args) => commands::audit::run(&args),
        Command::Evaluate(args) => commands::evaluate::run(&args),
        Command::Train(args) => commands::train::run(&args),
        Command::Predict(args) => commands::predict::run_predict(&args),
        Command::Eval(args) => commands::predict::run_eval(&args),
        Command::Decide(args) => commands::decide::run(&args),
        Command::Diagnose(args) => commands::diagnose::run(&args),
        Command::LearningCurve(args) => commands::learning_curve::run(&args),
        Command::LrFind(args) => commands::lr_find::run(&args),
        Command::Soup(args) => commands::soup::run(&args),
        Command::Bench(args) => commands::bench::run(&args),
        Command::Resample(args) => commands::resample::run(&args),
        Command::ImportWeights(args) => commands::import_weights::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
