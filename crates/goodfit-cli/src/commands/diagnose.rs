//! `goodfit diagnose`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use goodfit::diagnose::{diagnose_run, diagnosis_file};

use crate::args::print;

/// Flags of `goodfit diagnose`.
#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// The run folder of a finished `goodfit train`.
    run: PathBuf,
    /// Print `diagnosis.json` instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `goodfit diagnose`: diagnoses the run again from its files and rewrites its
/// `diagnosis.json` and `report.html`.
pub fn run(args: &DiagnoseArgs) -> Result<()> {
    let diagnosis = diagnose_run(&args.run)?;
    goodfit::report::write_report(&args.run)?;
    if args.json {
        print(&diagnosis_file(&diagnosis)?)
    } else {
        print(&diagnosis.to_string())
    }
}
