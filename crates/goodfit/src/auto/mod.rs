//! `goodfit train --auto`: a search for a configuration that fits, within a budget.
//!
//! It starts from a [recipe] chosen from the data (its size, imbalance and text
//! lengths), runs cheap head-only trials on the frozen encoder's cached features first,
//! then fine-tunes, each next configuration answering the [verdicts](crate::diagnose) on
//! the trials before ([`next`]), while the [budget] lasts. Trials are compared on
//! validation data only (cross-validated when a class is thin in validation, [`folds`]);
//! at the end the trials within noise of the best are averaged
//! (`ensemble.rs`) when that does not score clearly worse, and a test file is scored once
//! for the choice and for the first trial. Every trial is a run folder under
//! `RUN_DIR/trials/` and a line of `RUN_DIR/trials.jsonl` ([`trial`]); the run folder
//! itself holds the chosen model (and `ensemble.json` when an ensemble was chosen), so
//! `goodfit predict --run RUN_DIR` uses it.

pub mod budget;
pub mod capacity;
mod ensemble;
mod finish;
pub mod folds;
pub mod next;
pub mod outcome;
pub mod recipe;
pub mod search;
pub mod select;
pub mod trial;

pub use budget::Budget;
pub use outcome::{AutoResult, TestScore};
pub use search::{run_auto, AutoConfig};
pub use select::SelectMetric;
pub use trial::{read_trials, Trial, TrialCv};

/// The search's files in its run folder.
pub use crate::run_folder::{AUTO_FILE, TRIALS_DIR, TRIALS_FILE};
