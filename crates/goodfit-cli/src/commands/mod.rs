//! One module per subcommand.

pub mod evaluate;
pub mod inspect;
pub mod predict;
pub mod train;
