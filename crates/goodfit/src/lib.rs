//! goodfit: fine-tune pretrained models on small labelled datasets and keep them out of
//! the three classic traps — overfitting, underfitting and class imbalance.
//!
//! The modules follow the data's path:
//! - [`data`]: read labelled tables (CSV, JSONL, Parquet), split them, find duplicates
//!   and leakage, and summarise them (`goodfit inspect`);
//! - [`sampling`]: resample numeric feature tables against class imbalance as
//!   imbalanced-learn does — SMOTE and its variants, ADASYN, Tomek links, ENN, NearMiss
//!   (`goodfit resample`);
//! - [`model`]: open a Hugging Face folder and build a trainable encoder with a head;
//! - [`train`]: fine-tune it, with the imbalance remedies, early stopping and checkpoints
//!   (`goodfit train`);
//! - [`decision`]: turn probabilities into classes with tuned cut-offs or logit offsets;
//! - [`metrics`]: score predictions exactly as scikit-learn and imbalanced-learn do
//!   (`goodfit evaluate`);
//! - [`diagnose`] and [`report`]: say what went wrong, and show it (`goodfit diagnose`);
//! - [`auto`]: search for a configuration that fits, trial by trial, from the verdicts
//!   (`goodfit train --auto`).

pub mod audit;
pub mod auto;
pub mod data;
pub mod decision;
pub mod diagnose;
pub mod error;
pub mod io;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod run_folder;
pub mod sampling;
pub mod train;

pub use error::{Error, Position, Result};
