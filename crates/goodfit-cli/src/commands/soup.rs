//! `goodfit soup`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use goodfit::metrics::text_report;
use goodfit::run_folder::MODEL_DIR;
use goodfit::train::soup::soup_runs;

use crate::args::print;
use crate::progress::Bars;

/// Flags of `goodfit soup`.
#[derive(Debug, Args)]
pub struct SoupArgs {
    /// Finished `goodfit train` run folders of one model, scored on the same validation
    /// rows (same data, split seed and fraction): fine-tunes that differ in a seed or a
    /// setting.
    #[arg(required = true, num_args = 2..)]
    runs: Vec<PathBuf>,
    /// Where to write the soup (`model/`, `soup.json`, its validation predictions).
    #[arg(long)]
    out: PathBuf,
    /// Replace a run or soup already in --out.
    #[arg(long)]
    overwrite: bool,
    /// Print no progress.
    #[arg(long)]
    quiet: bool,
}

/// Runs `goodfit soup`: averages the weights of the runs' models greedily (Wortsman et al.
/// 2022): best on validation first, each next one kept only when the average scores at
/// least as well; prints what was kept and the soup's validation scores.
pub fn run(args: &SoupArgs) -> Result<()> {
    let bars = Bars::new(args.quiet);
    let soup = soup_runs(&args.runs, &args.out, args.overwrite, &bars)?;
    let mut text = format!(
        "greedy soup of {} of {} runs, {} on {} validation rows: {:.4} (uniform soup of all: {:.4})\n",
        soup.members.len(),
        soup.steps.len(),
        soup.metric,
        soup.val_rows,
        soup.val_score,
        soup.uniform_score
    );
    for step in &soup.steps {
        text += &format!(
            "  {}: alone {:.4}, soup with it {:.4}, {}\n",
            step.run.display(),
            step.alone,
            step.with_it,
            if step.kept { "kept" } else { "left out" }
        );
    }
    text += &format!(
        "\nvalidation:\n{}\nmodel: {} (goodfit predict / eval --run {} take it)\n",
        text_report(&soup.val),
        args.out.join(MODEL_DIR).display(),
        args.out.display()
    );
    print(&text)
}
