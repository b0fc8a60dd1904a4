//! One module per subcommand.

pub mod bench;
pub mod decide;
pub mod diagnose;
pub mod evaluate;
pub mod inspect;
pub mod learning_curve;
pub mod lr_find;
pub mod predict;
pub mod resample;
pub mod train;
