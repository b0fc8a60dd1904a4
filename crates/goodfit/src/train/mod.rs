//! Fine-tuning: batches, the objective, optimisation, schedules, early stopping,
//! checkpoints and the training loop.

pub mod batching;
pub mod bench;
pub mod checkpoint;
pub mod config;
pub mod cross_val;
pub mod data;
pub mod decide;
pub mod early_stopping;
pub mod evaluate;
pub mod feature_cache;
pub mod frozen;
mod gallery;
pub mod imbalance;
pub mod learning_curve;
pub mod loss;
pub mod lr_find;
pub mod mixup;
pub mod observer;
pub mod optimizer;
pub mod oversample;
pub mod padding;
pub mod param_groups;
pub mod predictor;
pub mod records;
mod run_writer;
pub mod schedule;
pub mod session;
pub mod soup;
pub mod swa;
pub mod test_scoring;
pub mod trainer;
pub mod warm_start;

pub use config::{Checked, TrainConfig};
pub use observer::{Observer, Silent};
pub use trainer::{train, RunResult};
