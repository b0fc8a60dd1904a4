//! goodfit: fine-tune pretrained models on small labelled datasets and keep them out of
//! the three classic traps — overfitting, underfitting and class imbalance.
//!
//! The modules follow the data's path:
//! - [`data`]: read labelled tables (CSV, JSONL, Parquet), split them, find duplicates
//!   and leakage, and summarise them (`goodfit inspect`);
//! - [`metrics`]: score predictions exactly as scikit-learn and imbalanced-learn do
//!   (`goodfit evaluate`).

pub mod data;
pub mod diagnose;
pub mod error;
pub mod io;
pub mod metrics;
pub mod model;
pub mod report;
pub mod train;

pub use error::{Error, Position, Result};
