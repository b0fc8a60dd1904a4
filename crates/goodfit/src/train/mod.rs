//! Fine-tuning: batches, optimisation, schedules and the training loop.

pub mod batching;
pub mod optimizer;
pub mod schedule;
