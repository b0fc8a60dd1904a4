//! One module per subcommand.

pub mod audit;
pub mod bench;
pub mod decide;
pub mod diagnose;
pub mod evaluate;
pub mod import_weights;
pub mod inspect;
pub mod learning_curve;
pub mod lr_find;
pub mod predict;
pub mod resample;
pub mod soup;
pub mod train;

/// Parses a count that must be at least 1 (a batch size, a sequence length): clap refuses
/// zero with the flag's name and exit status 2, as `train` refuses it.
pub(crate) fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}
