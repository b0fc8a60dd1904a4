//! `goodfit learning-curve`.

use anyhow::Result;
use clap::Args;
use goodfit::io::write_atomic;
use goodfit::run_folder::{LEARNING_CURVE_CHART, LEARNING_CURVE_FILE};
use goodfit::train::learning_curve::learning_curve;

use super::train::{resolve, TrainArgs};
use crate::args::{print, to_json};
use crate::progress::Bars;

/// Flags of `goodfit learning-curve`: those of `train`, and the fractions.
#[derive(Debug, Args)]
pub struct LearningCurveArgs {
    /// Shares of the training set to train on (stratified, seeded).
    #[arg(long, value_delimiter = ',', default_value = "0.1,0.25,0.5,0.75,1")]
    fractions: Vec<f64>,
    /// Print the curve as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    train: TrainArgs,
}

/// Runs `goodfit learning-curve`; writes `learning_curve.json` and `learning_curve.svg` into
/// the `--out` folder (a run folder's report then shows the curve too).
pub fn run(args: &LearningCurveArgs) -> Result<()> {
    let config = resolve(&args.train)?;
    let bars = Bars::new(config.quiet);
    let curve = learning_curve(&config, &args.fractions, &bars)?;
    std::fs::create_dir_all(&config.out)?;
    let json = to_json(&curve)?;
    write_atomic(&config.out.join(LEARNING_CURVE_FILE), json.as_bytes())?;
    // The same chart the run report shows, on its own.
    let svg = goodfit::report::learning_curve_svg(&serde_json::to_value(&curve)?)?;
    write_atomic(&config.out.join(LEARNING_CURVE_CHART), svg.as_bytes())?;
    if args.json {
        return print(&json);
    }
    let show = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.4}"));
    let mut text = format!(
        "{:>9} {:>7} {:>12} {:>12} {:>9}\n",
        "fraction",
        "rows",
        format!("train {}", curve.metric),
        format!("val {}", curve.metric),
        "val loss"
    );
    for p in &curve.points {
        text += &format!(
            "{:>8.0}% {:>7} {:>12} {:>12} {:>9.4}\n",
            p.fraction * 100.0,
            p.rows,
            show(p.train_score),
            show(p.val_score),
            p.val_loss
        );
    }
    text += &format!("\n{}\n", curve.conclusion);
    print(&text)
}
