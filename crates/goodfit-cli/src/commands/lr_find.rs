//! `goodfit lr-find`.

use anyhow::Result;
use clap::Args;
use goodfit::io::write_atomic;
use goodfit::run_folder::{LR_FIND_CHART, LR_FIND_FILE};
use goodfit::train::lr_find::{lr_find, LrFindSettings};
use goodfit::train::trainer::Session;

use super::train::{resolve, TrainArgs};
use crate::args::{print, to_json};
use crate::progress::Bars;

/// Flags of `goodfit lr-find`: those of `train` (the run the test is for), and the sweep.
#[derive(Debug, Args)]
pub struct LrFindArgs {
    /// The first learning rate of the sweep.
    #[arg(long, default_value_t = LrFindSettings::default().start_lr)]
    start_lr: f64,
    /// The last learning rate of the sweep.
    #[arg(long, default_value_t = LrFindSettings::default().end_lr)]
    end_lr: f64,
    /// Optimizer steps (batches) of the sweep, at most.
    #[arg(long, default_value_t = LrFindSettings::default().steps)]
    steps: usize,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    train: TrainArgs,
}

/// Runs `goodfit lr-find`; writes `lr_find.json` and `lr_find.svg` into the `--out` folder.
pub fn run(args: &LrFindArgs) -> Result<()> {
    let config = resolve(&args.train)?;
    let settings = LrFindSettings {
        start_lr: args.start_lr,
        end_lr: args.end_lr,
        steps: args.steps,
    };
    settings.validate()?;
    let bars = Bars::new(config.quiet);
    let session = Session::open(&config.check()?, &bars)?;
    let found = lr_find(&session, settings, &bars)?;
    std::fs::create_dir_all(&config.out)?;
    let json = to_json(&found)?;
    write_atomic(&config.out.join(LR_FIND_FILE), json.as_bytes())?;
    let svg = goodfit::report::lr_find_svg(&found);
    write_atomic(&config.out.join(LR_FIND_CHART), svg.as_bytes())?;
    if args.json {
        return print(&json);
    }
    let mut text = format!(
        "swept {} from {:e} to {:e}: {} steps, {}\n",
        found.swept,
        settings.start_lr,
        settings.end_lr,
        found.points.len(),
        found.stopped
    );
    if let Some(lowest) = found
        .points
        .iter()
        .min_by(|a, b| a.smoothed.total_cmp(&b.smoothed))
    {
        text += &format!(
            "lowest smoothed loss {:.4} at {} {:.2e}\n",
            lowest.smoothed, found.swept, lowest.lr
        );
    }
    text += &format!(
        "suggested (fastai's valley rule): {}\nplot: {}\n",
        found.advice,
        config.out.join(LR_FIND_CHART).display()
    );
    print(&text)
}
