//! What a search hands on: its trials as they finished, the search's state for
//! [`super::finish`], and what a finished search reports.

use std::path::PathBuf;

use crate::data::Folds;
use crate::diagnose::Diagnosis;
pub use crate::train::test_scoring::TestScore;
use crate::train::{Observer, TrainConfig};

use super::budget::Budget;
use super::select::SelectMetric;
use super::trial::Trial;

/// The search's cross-validation, when it cross-validates.
#[derive(Debug, Clone)]
pub(crate) struct SearchCv {
    /// The folds of the pooled training and validation rows.
    pub folds: Folds,
    /// Why the search cross-validates, in a sentence.
    pub why: String,
    /// How many folds each fine-tune runs, and why: fixed by the first fine-tune's first
    /// fold ([`super::folds::fine_tune_folds`]).
    pub fine_tune_folds: Option<(usize, String)>,
}

/// What a search found.
pub struct AutoResult {
    /// The search's run folder, which holds the chosen model.
    pub out: PathBuf,
    /// Every trial, in the order they ran.
    pub trials: Vec<Trial>,
    /// The chosen trial: the best by the validation score (its model is `out/model/`).
    pub chosen: Trial,
    /// The first trial that finished: the baseline the search is measured against.
    pub first: Trial,
    /// The test file's scores of what the run folder predicts with (the chosen trial, or
    /// the ensemble) and of the first trial, each scored once, after the search (when a
    /// test file was given).
    pub test: Option<(TestScore, TestScore)>,
    /// The members of the ensemble chosen over the single best trial (trial indices), if
    /// one was: the run folder then predicts with their averaged probabilities.
    pub ensemble: Option<Vec<usize>>,
    /// The chosen trial's verdicts.
    pub diagnosis: Diagnosis,
    /// Wall-clock seconds of the whole search.
    pub seconds: f64,
    /// Why the search ended.
    pub ended: String,
}

/// A finished trial with what the search needs of it.
pub(crate) struct Done {
    /// The record.
    pub trial: Trial,
    /// Its settings (`out` is its run folder).
    pub config: TrainConfig,
    /// The verdicts, when it finished.
    pub diagnosis: Option<Diagnosis>,
}

/// What [`super::finish`] needs of a search.
pub(crate) struct Finished<'a> {
    /// The configuration the search was given (with the test file).
    pub config: TrainConfig,
    /// How trials are ranked.
    pub select: SelectMetric,
    /// The budget, whose clock started with the search.
    pub budget: Budget,
    /// Where progress goes.
    pub observer: &'a dyn Observer,
    /// Every trial, in order.
    pub done: Vec<Done>,
    /// Why the search ended.
    pub ended: String,
    /// Why larger trials (every layer, longer inputs) were not tried, a line each.
    pub capacity: Vec<String>,
    /// The cross-validation, when the search used one.
    pub cv: Option<SearchCv>,
    /// Why the search used one validation split, when it did.
    pub single_split: Option<String>,
}

/// The best finished trial of `trials` by `select` (the earliest among equals).
pub(crate) fn best_of<'d>(
    select: &SelectMetric,
    trials: impl Iterator<Item = &'d Done>,
) -> Option<&'d Done> {
    trials
        .filter(|d| d.trial.error.is_none())
        .fold(None, |best: Option<&Done>, d| match best {
            Some(b)
                if select
                    .compare(d.trial.val_metric, b.trial.val_metric)
                    .is_le() =>
            {
                Some(b)
            }
            _ => Some(d),
        })
}
