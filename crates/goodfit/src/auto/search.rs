//! The search: cheap head-only trials on cached features, then fine-tunes that answer the
//! verdicts, while the budget lasts.

use std::fmt;
use std::path::PathBuf;
use std::time::Instant;

use crate::data::stratified_kfold;
use crate::diagnose::{Diagnosis, Severity, VerdictKind};
use crate::error::{Error, Result};
use crate::metrics::SCALAR_METRICS;
use crate::model::{Pooling, TrainLayers};
use crate::run_folder::summaries::RunAudit;
use crate::train::cross_val::{cross_validate_in_session, Pool};
use crate::train::data::read_texts;
use crate::train::imbalance::class_counts;
use crate::train::trainer::{
    check_out_dir, prepare_run_dir, train_in_session, RunResult, Session, CHECKPOINT_FILE,
    IMBALANCE_WARNING,
};
use crate::train::{Observer, Silent, TrainConfig};

use super::budget::Budget;
use super::capacity::{capacity, half_layers};
use super::finish::finish;
use super::folds::{self, cv_record, Plan};
use super::next::{head_only, head_stage, propose, verdict_label, Context, HeadStage, Proposal};
pub(crate) use super::outcome::{best_of, Done, Finished, SearchCv};
pub use super::outcome::{AutoResult, TestScore};
use super::recipe::{recipe, DataFacts, Recipe};
use super::select::SelectMetric;
use super::trial::{changes, Trial};
use super::{TRIALS_DIR, TRIALS_FILE};

mod phases;
mod runner;

/// The share of a time budget the head-only trials may spend: they are cheap, and what
/// they find (the best imbalance remedy) is carried into the fine-tunes, which need the
/// rest.
pub const HEAD_SHARE: f64 = 0.25;

/// The share of a time budget kept for the end when there is a test file: scoring 1,000
/// fine_foods test reviews with an ensemble of four MiniLM fine-tunes took 61 s on 2 cores,
/// 7% of 15 minutes.
pub const FINISH_SHARE: f64 = 0.07;

/// How `auto.json` says that larger trials waited for the best fine-tune's verdicts.
const WAITING: &str = "larger trials:";

/// The name of a trial that repeats the best fine-tune's settings with another seed.
const REPLICA: &str = "replicate";

/// Copies of one fine-tune's settings beyond the first that [`Search::replica_of_best`]
/// may add.
const MAX_REPLICAS: usize = 2;

/// Sessions kept open at once: each holds a model and its cached features or states, and
/// the search rarely goes back to an older one.
const OPEN_SESSIONS: usize = 2;

/// How a search is limited and how it ranks trials.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoConfig {
    /// Wall-clock minutes for the whole search.
    pub budget_minutes: Option<f64>,
    /// The most trials.
    pub max_trials: Option<usize>,
    /// The validation score trials are ranked by: `loss` or a metric key (`f1_macro`).
    pub select_metric: String,
    /// Folds to cross-validate with: `None` decides from the data ([`folds::plan`]),
    /// `Some(0)` never cross-validates.
    pub cv_folds: Option<usize>,
}

impl Default for AutoConfig {
    fn default() -> Self {
        AutoConfig {
            budget_minutes: Some(15.0),
            max_trials: None,
            select_metric: "f1_macro".into(),
            cv_folds: None,
        }
    }
}

/// What the costly preparation of a session depends on: trials with the same key share
/// one [`Session`] (the model, the tokenised data and the frozen part's outputs).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionKey {
    /// Trainable top layers (0: the head on cached pooled features).
    pub train_layers: TrainLayers,
    /// Pooling.
    pub pooling: Pooling,
    /// The input window.
    pub max_len: usize,
    /// Training rows left out (`--drop-flagged`): another set of training examples.
    pub dropped: usize,
}

impl SessionKey {
    /// The key of `config`.
    pub fn of(config: &TrainConfig) -> SessionKey {
        SessionKey {
            train_layers: config.train_layers,
            pooling: config.pooling,
            max_len: config.max_len,
            dropped: config.drop_lines.len(),
        }
    }
}

impl fmt::Display for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "train_layers {}, pooling {}, max_len {}{}",
            self.train_layers,
            self.pooling,
            self.max_len,
            if self.dropped > 0 {
                format!(", without {} flagged rows", self.dropped)
            } else {
                String::new()
            }
        )
    }
}

/// Searches for a good configuration within a budget and writes the chosen model to
/// `config.out`.
///
/// 1. Opens a head-only session (the frozen encoder's pooled features, computed once),
///    reads the data facts and makes the first [recipe](super::recipe).
/// 2. Head-only trials, seconds each ([`HEAD_SHARE`] of the time, half the trials at most):
///    the recipe's head, then head learning rates, weight decay, a hidden layer and, when
///    the classes are imbalanced, each remedy on its own — each stage building on the best
///    head so far.
/// 3. Fine-tunes: the recipe (above a 3 : 1 imbalance, with the remedy of the best head
///    trial), then the changes [`propose`] draws from the verdicts on the best fine-tunes
///    so far, never a configuration twice, each with a seed of its own and only when its
///    estimated time fits what is left.
/// 4. At the end, the best trial by the validation `select_metric` becomes the run folder's
///    model, and the trials within noise of it its ensemble unless that scores clearly
///    worse (`ensemble.rs`); the test file, never seen before, scores the choice and the
///    first trial once.
///
/// Trials use the validation data only (the `val` file or the split of the training
/// file); their run folders are `trials/NN-name/` and each is recorded in `trials.jsonl`
/// as it ends. Ctrl-C ends the search after the current epoch, keeping the trials done.
pub fn run_auto(
    config: &TrainConfig,
    auto: &AutoConfig,
    observer: &dyn Observer,
) -> Result<AutoResult> {
    config.check()?;
    if config.eda_copies > 0 {
        return Err(Error::Invalid(
            "--eda-copies cannot be combined with --auto: its trials are cross-validated, and a fold would train on augmented copies of the rows it validates on".into(),
        ));
    }
    let select = SelectMetric::parse(&auto.select_metric)?;
    let budget = Budget::new(auto.budget_minutes, auto.max_trials)?;
    check_out_dir(&config.out, config.overwrite)?;
    Session::check_inputs(config)?;
    prepare_run_dir(&config.out, config, false)?;
    // Each trial keeps its best epoch by the score the search ranks trials by, unless the
    // user chose what to monitor: on validation loss, a class-weighted fine-tune of
    // fine_foods cut to 1:20 kept its first epoch and scored macro-F1 0.437 against 0.784
    // for the adjusted loss (benches/imbalance), so loss and ranking must agree.
    let monitor = if config.monitor == TrainConfig::default().monitor {
        format!("val_{}", select.name)
    } else {
        config.monitor.clone()
    };
    let mut audited = config.clone();
    let audit = crate::pipeline::attach_audit(&mut audited)?;
    let mut search = Search {
        // The trials never see the test file: their sessions are opened without it.
        base: TrainConfig {
            test: None,
            monitor,
            // The search chooses remedies itself, trial by trial.
            default_remedy: false,
            ..audited
        },
        audit,
        out: config.out.clone(),
        test: config.test.clone(),
        select,
        budget,
        observer,
        sessions: Vec::new(),
        ctx: None,
        done: Vec::new(),
        ended: None,
        capacity: Vec::new(),
        cv_folds: auto.cv_folds,
        cv: None,
        single_split: None,
    };
    let recipe = search.head_phase()?;
    search.fine_tune_phase(&recipe)?;
    finish(search.into_finished(config))
}

/// The search in progress.
struct Search<'a> {
    /// The configuration given, without the test file.
    base: TrainConfig,
    out: PathBuf,
    /// The test file, checked when the data is first read and scored only by [`finish`].
    test: Option<PathBuf>,
    select: SelectMetric,
    budget: Budget,
    observer: &'a dyn Observer,
    sessions: Vec<(SessionKey, Session)>,
    ctx: Option<Context>,
    done: Vec<Done>,
    /// Set when the search must stop (interrupted, out of budget, nothing left to try).
    ended: Option<String>,
    /// Why larger trials were not tried (see [`super::capacity`]).
    capacity: Vec<String>,
    /// `--cv-folds`.
    cv_folds: Option<usize>,
    /// The folds every trial is scored on, when the search cross-validates.
    cv: Option<SearchCv>,
    /// Why the search scores trials on one validation split, when it does.
    single_split: Option<String>,
    /// The audit of the training file (`--audit`) as run folders keep it, and the lines it
    /// flags.
    audit: Option<(RunAudit, Vec<u64>)>,
}

/// The phase a trial belongs to, for its limits.
#[derive(Clone, Copy, PartialEq)]
enum Phase {
    /// The very first trial: the head-only phase's limits do not hold it back, only the
    /// whole budget (it is the baseline every other trial is measured against).
    First,
    /// A head-only trial: within [`HEAD_SHARE`] of the time and half the trials.
    Head,
    /// A fine-tune: within the whole budget.
    FineTune,
}

impl<'a> Search<'a> {
    /// The best finished trial among those `which` accepts (the earliest among equals).
    fn best(&self, which: impl Fn(&Done) -> bool) -> Option<&Done> {
        best_of(&self.select, self.done.iter().filter(|d| which(d)))
    }

    fn into_finished(self, config: &TrainConfig) -> Finished<'a> {
        let ended = self.ended.unwrap_or_else(|| {
            if self.budget.trials_left(self.done.len()) {
                "the time budget is spent".into()
            } else {
                format!(
                    "the trial limit ({}) was reached",
                    self.budget.max_trials().unwrap_or(0)
                )
            }
        });
        Finished {
            config: config.clone(),
            select: self.select,
            budget: self.budget,
            observer: self.observer,
            done: self.done,
            ended,
            capacity: self.capacity,
            cv: self.cv,
            single_split: self.single_split,
        }
    }
}

/// Whether two configurations train alike but for their seeds and places.
fn same_settings(a: &TrainConfig, b: &TrainConfig) -> bool {
    let bare = |c: &TrainConfig| TrainConfig {
        out: PathBuf::new(),
        test: None,
        seed: 0,
        split_seed: None,
        ..c.clone()
    };
    bare(a) == bare(b)
}

/// Whether `config` trains the head only.
pub(crate) fn is_head(config: &TrainConfig) -> bool {
    config.train_layers == TrainLayers::Top(0)
}

/// Changed settings as `key value, key value`.
fn describe(changes: &std::collections::BTreeMap<String, String>) -> String {
    changes
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Passes a trial's progress bars and Ctrl-C through, but not its messages and epoch
/// lines: the search prints one line per trial instead.
struct TrialObserver<'a>(&'a dyn Observer);

impl Observer for TrialObserver<'_> {
    fn epoch_start(&self, epoch: usize, epochs: usize, batches: usize) {
        self.0.epoch_start(epoch, epochs, batches);
    }
    fn batch_end(&self, loss: f64) {
        self.0.batch_end(loss);
    }
    fn eval_start(&self, what: &str, examples: usize) {
        self.0.eval_start(what, examples);
    }
    fn eval_progress(&self, done: usize) {
        self.0.eval_progress(done);
    }
    fn epoch_end(&self, _record: &crate::run_folder::records::EpochRecord) {}
    fn keep_going(&self) -> bool {
        self.0.keep_going()
    }
    fn stop_now(&self) -> bool {
        self.0.stop_now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(index: usize, config: &TrainConfig, value: f64, severity: Severity) -> Done {
        let trial = Trial {
            val_metric: Some(value),
            ..Trial::example(index)
        };
        Done {
            trial,
            config: config.clone(),
            diagnosis: Some(Diagnosis::one(VerdictKind::Overfitting, severity)),
        }
    }

    #[test]
    fn the_best_fine_tune_is_replicated_only_when_nothing_is_worth_fixing() {
        let recipe = TrainConfig::default();
        let regularised = TrainConfig {
            weight_decay: 0.05,
            seed: 43,
            ..recipe.clone()
        };
        let mut search = Search {
            base: recipe.clone(),
            out: PathBuf::new(),
            test: None,
            select: SelectMetric::parse("f1_macro").unwrap(),
            budget: Budget::new(None, Some(20)).unwrap(),
            observer: &Silent,
            sessions: Vec::new(),
            ctx: None,
            done: vec![done(1, &recipe, 0.83, Severity::Low)],
            ended: None,
            capacity: Vec::new(),
            cv_folds: None,
            cv: None,
            single_split: None,
            audit: None,
        };
        // One fine-tune: its verdicts are answered by a change first.
        assert!(search.replica_of_best().is_none());
        search.done.push(done(2, &regularised, 0.82, Severity::Low));
        let replica = search.replica_of_best().unwrap();
        assert_eq!(replica.name, REPLICA);
        assert!(same_settings(&replica.config, &recipe));
        assert!(replica.why.starts_with("after trial 1"), "{}", replica.why);
        // Up to MAX_REPLICAS copies beyond the first.
        let copy = TrainConfig {
            seed: 44,
            ..recipe.clone()
        };
        search.done.push(done(3, &copy, 0.81, Severity::Low));
        assert!(search.replica_of_best().is_some());
        search.done.push(done(4, &copy, 0.80, Severity::Low));
        assert!(search.replica_of_best().is_none());
        // A verdict worth fixing on the best comes first.
        search.done = vec![
            done(1, &recipe, 0.83, Severity::Medium),
            done(2, &regularised, 0.82, Severity::Low),
        ];
        assert!(search.replica_of_best().is_none());
    }
}
