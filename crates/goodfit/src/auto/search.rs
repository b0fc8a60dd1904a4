//! The search: cheap head-only trials on cached features, then fine-tunes that answer the
//! verdicts, while the budget lasts.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Map, Value};

use crate::data::{stratified_kfold, Folds};
use crate::diagnose::{Diagnosis, Severity, VerdictKind};
use crate::error::{Error, Result};
use crate::metrics::{Metrics, SCALAR_METRICS};
use crate::model::{Pooling, TrainLayers};
use crate::train::cross_val::cross_validate_in_session;
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
use super::recipe::{recipe, DataFacts, Recipe};
use super::select::SelectMetric;
use super::trial::{changes, Trial};
use super::{TRIALS_DIR, TRIALS_FILE};

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

/// The share of the time left when a cross-validated fine-tune starts that its folds may
/// take: it runs folds while they fit, so that other fine-tunes can follow.
const FOLD_SHARE: f64 = 0.5;

/// The search's cross-validation, when it cross-validates.
#[derive(Debug, Clone)]
pub(crate) struct SearchCv {
    /// The folds of the pooled training and validation rows.
    pub folds: Folds,
    /// Why the search cross-validates, in a sentence.
    pub why: String,
}

/// A saved model's loss and metrics on the test file.
#[derive(Debug, Clone)]
pub struct TestScore {
    /// Mean negative log-likelihood of the true classes.
    pub loss: f64,
    /// The metrics under the model's decision rule.
    pub metrics: Metrics,
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
}

impl SessionKey {
    /// The key of `config`.
    pub fn of(config: &TrainConfig) -> SessionKey {
        SessionKey {
            train_layers: config.train_layers,
            pooling: config.pooling,
            max_len: config.max_len,
        }
    }
}

impl fmt::Display for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "train_layers {}, pooling {}, max_len {}",
            self.train_layers, self.pooling, self.max_len
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
    config.validate()?;
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
    let mut search = Search {
        // The trials never see the test file: their sessions are opened without it.
        base: TrainConfig {
            test: None,
            monitor,
            // The search chooses remedies itself, trial by trial.
            default_remedy: false,
            ..config.clone()
        },
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

/// A finished trial with what the search needs of it.
pub(crate) struct Done {
    /// The record.
    pub trial: Trial,
    /// Its settings (`out` is its run folder).
    pub config: TrainConfig,
    /// The verdicts, when it finished.
    pub diagnosis: Option<Diagnosis>,
}

/// What [`finish`] needs of a search.
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
    /// Opens the head-only session, makes the recipe and runs the head-only trials.
    fn head_phase(&mut self) -> Result<Recipe> {
        let head = head_only(&self.base);
        let test = self.test.clone();
        let (cv_folds, val_file) = (self.cv_folds, self.base.val.is_some());
        let split_seed = self.base.split_seed.unwrap_or(self.base.seed);
        let observer = self.observer;
        let session = self.session(&head)?;
        if let Some(test) = test {
            // Read now, so that a mistake in the test file does not cost a whole search;
            // its rows are only checked here, never used for a choice.
            let (_, dataset) = read_texts(&test, &session.config, &Silent)?;
            dataset.class_indices(&session.data.labels)?;
        }
        let facts = DataFacts::of(&session.data, session.config.max_len);
        let data = &session.data;
        let names: Vec<String> = data.labels.labels().iter().map(|l| l.as_text()).collect();
        let val_counts = class_counts(&data.val.targets, names.len());
        let rows = data.train.len() + data.val.len();
        let cv = match folds::plan(cv_folds, val_file, &val_counts, &names, rows) {
            Plan::Folds(k, why) => {
                // The pool every cross-validated session builds: training rows, then
                // validation rows (the split is the same in every session).
                let pooled: Vec<usize> = data
                    .train
                    .targets
                    .iter()
                    .chain(&data.val.targets)
                    .copied()
                    .collect();
                let folds = stratified_kfold(&pooled, &names, k, split_seed)?;
                for note in &folds.notes {
                    observer.message(note);
                }
                observer.message(&why);
                Ok(SearchCv { folds, why })
            }
            Plan::Split(why) => Err(why),
        };
        let ctx = Context {
            layers: session.folder.config.num_hidden_layers,
            positions: session.positions(),
            objective: self.select.objective(),
            facts,
        };
        let mut recipe = recipe(&self.base, &ctx.facts);
        recipe.config.max_len = recipe.config.max_len.min(ctx.positions);
        self.observer.message(&format!("recipe: {}", recipe.why));
        self.ctx = Some(ctx);
        match cv {
            Ok(cv) => self.cv = Some(cv),
            Err(why) => self.single_split = Some(why),
        }
        self.attempt(
            Proposal {
                name: "head".into(),
                why: "the recipe with the encoder frozen: its features are computed once, so head trials take seconds".into(),
                config: head_only(&recipe.config),
            },
            Phase::First,
        )?;
        for stage in HeadStage::ALL {
            let Some(best) = self.best(|d| is_head(&d.config)) else {
                break;
            };
            let biased = self.done.iter().any(|d| {
                is_head(&d.config)
                    && d.diagnosis
                        .as_ref()
                        .is_some_and(|v| v.has(VerdictKind::ImbalanceBias))
            });
            let best = best.config.clone();
            let ctx = self.ctx.clone().expect("set above");
            for proposal in head_stage(stage, &best, &ctx, biased) {
                self.attempt(proposal, Phase::Head)?;
            }
        }
        Ok(recipe)
    }

    /// The recipe's fine-tune, then changes drawn from the verdicts until the budget or the
    /// ideas run out.
    fn fine_tune_phase(&mut self, recipe: &Recipe) -> Result<()> {
        let mut first = recipe.config.clone();
        let mut why = format!("the recipe: {}", recipe.why);
        // The first fine-tune is the plain recipe, what `goodfit train` would run, unless
        // the classes are imbalanced enough for the recipe to remedy them: then the best
        // head trial's remedy replaces the recipe's class weights. On fine_foods (1.9 : 1)
        // the head trials favoured a logit-adjusted loss that the fine-tune did not need
        // (validation macro-F1 0.814 with it, 0.831 without, same seed).
        let imbalanced = self
            .ctx
            .as_ref()
            .is_some_and(|c| c.facts.imbalance_ratio > IMBALANCE_WARNING);
        let head = self.best(|d| is_head(&d.config)).filter(|_| imbalanced);
        if let Some(head) = head {
            let h = &head.config;
            first.class_weight = h.class_weight;
            first.loss = h.loss;
            first.sampler = h.sampler;
            first.tune_threshold = h.tune_threshold.clone();
            first.logit_adjust = h.logit_adjust;
            let carried = changes(&recipe.config, &first)?;
            if !carried.is_empty() {
                why += &format!(
                    "; with the imbalance settings of the best head trial ({}): {}",
                    head.trial.index,
                    describe(&carried)
                );
            }
        }
        let ran = self.attempt(
            Proposal {
                name: "recipe".into(),
                why,
                config: first,
            },
            Phase::FineTune,
        )?;
        if !ran {
            if self.ended.is_none() && self.budget.trials_left(self.done.len()) {
                self.ended = Some("no time was left for a fine-tune".into());
            }
            return Ok(());
        }
        // On small data, whether the top layer is enough is the task's question, not the
        // verdicts': the top half of the layers runs next (see `capacity`).
        let half = match (&self.ctx, self.best(|d| !is_head(&d.config))) {
            (Some(ctx), Some(best)) => half_layers(&best.config, ctx, best.trial.index),
            _ => None,
        };
        if let Some(half) = half.map(|p| self.normalise(p)) {
            if self.budget.trials_left(self.done.len())
                && !self.tried(&half.config)
                && self.affordable(&half.config, Phase::FineTune)
            {
                self.attempt(half, Phase::FineTune)?;
            }
        }
        while self.ended.is_none() && self.budget.trials_left(self.done.len()) {
            let Some(ctx) = self.ctx.clone() else { break };
            // Larger trials come first when nothing is wrong with the best fine-tune; a
            // verdict above low is answered by its own remedies first (on 300 reviews a
            // longer window ran twice while the best fine-tune's imbalance bias was high).
            if self.best_is_calm() {
                if let Some(larger) = self.larger_trial() {
                    if self.attempt(larger, Phase::FineTune)? {
                        continue;
                    }
                }
            } else if let Some(best) = self.best(|d| !is_head(&d.config)) {
                let note = format!(
                    "{WAITING} trial {}, the best fine-tune, has a verdict above low ({}), which its own remedies answer first",
                    best.trial.index,
                    best.trial.verdicts.join(", ")
                );
                self.capacity.retain(|n| !n.starts_with(WAITING));
                self.capacity.push(note);
            }
            if let Some(replica) = self.replica_of_best() {
                if self.affordable(&replica.config, Phase::FineTune) {
                    self.attempt(replica, Phase::FineTune)?;
                    continue;
                }
            }
            let mut tuned: Vec<&Done> = self
                .done
                .iter()
                .filter(|d| !is_head(&d.config) && d.diagnosis.is_some())
                .collect();
            // Build on the best fine-tunes first; the stable sort keeps earlier trials
            // first among equals.
            tuned.sort_by(|a, b| self.select.compare(b.trial.val_metric, a.trial.val_metric));
            let proposals: Vec<Proposal> = tuned
                .iter()
                .flat_map(|d| {
                    let diagnosis = d.diagnosis.as_ref().expect("filtered above");
                    propose(&d.config, diagnosis, &ctx)
                        .into_iter()
                        .map(|p| Proposal {
                            why: format!("after trial {}, {}", d.trial.index, p.why),
                            ..p
                        })
                })
                .map(|p| self.normalise(p))
                .filter(|p| !self.tried(&p.config))
                .collect();
            if proposals.is_empty() {
                if let Some(larger) = self.larger_trial() {
                    if self.attempt(larger, Phase::FineTune)? {
                        continue;
                    }
                }
                self.ended = Some("every change the verdicts call for was tried".into());
                break;
            }
            match proposals
                .into_iter()
                .find(|p| self.affordable(&p.config, Phase::FineTune))
            {
                Some(p) => {
                    self.attempt(p, Phase::FineTune)?;
                }
                None => {
                    self.ended = Some("no untried change fits in the time left".into());
                }
            }
        }
        Ok(())
    }

    /// Whether the best fine-tune's verdicts are all of low severity.
    fn best_is_calm(&self) -> bool {
        self.best(|d| !is_head(&d.config))
            .and_then(|d| d.diagnosis.as_ref())
            .is_some_and(|v| v.verdicts.iter().all(|v| v.severity <= Severity::Low))
    }

    /// A trial with more capacity than the best fine-tune (every layer, a longer window;
    /// see [`super::capacity`]) that was not tried and fits in the time left. The rules
    /// that do not apply, and the trials that do not fit, are noted for `auto.json`.
    fn larger_trial(&mut self) -> Option<Proposal> {
        let ctx = self.ctx.clone()?;
        let best = self.best(|d| !is_head(&d.config))?;
        let diagnosis = best.diagnosis.as_ref()?;
        let larger = capacity(&best.config, diagnosis, &ctx, best.trial.index);
        let index = best.trial.index;
        self.capacity.retain(|n| !n.starts_with(WAITING));
        let mut notes = larger.not_tried;
        let mut chosen = None;
        for proposal in larger.proposals {
            let proposal = self.normalise(proposal);
            let mine = format!("{}:", proposal.name);
            if self.tried(&proposal.config) {
                self.capacity.retain(|n| !n.starts_with(&mine));
                continue;
            }
            if chosen.is_none() && self.affordable(&proposal.config, Phase::FineTune) {
                self.capacity.retain(|n| !n.starts_with(&mine));
                chosen = Some(proposal);
            } else if chosen.is_none() {
                notes.push(format!(
                    "{mine} not tried after trial {index}, estimated {} with {} left",
                    self.estimate(&proposal.config)
                        .map_or("unknown".into(), |s| format!("{s:.0} s")),
                    self.budget
                        .remaining()
                        .map_or("no time limit".into(), |s| format!("{s:.0} s"))
                ));
            }
        }
        // One line per rule or trial: the latest says why.
        for note in notes {
            let key = note.split(':').next().unwrap_or_default().to_string();
            self.capacity.retain(|n| !n.starts_with(&format!("{key}:")));
            self.capacity.push(note);
        }
        chosen
    }

    /// The best fine-tune's settings again with another seed, when that is the most useful
    /// next trial: its verdicts are all of low severity (nothing worth fixing), a change
    /// answering a verdict has been tried already, and fewer than [`MAX_REPLICAS`] copies
    /// of the settings ran. Fine-tunes on a few thousand examples differ from seed to seed
    /// about as much as from most setting changes (Dodge et al. 2020, "Fine-Tuning
    /// Pretrained Language Models: Weight Initializations, Data Orders, and Early
    /// Stopping"); a replica is a member for the ensemble that averages that noise away.
    fn replica_of_best(&self) -> Option<Proposal> {
        let best = self.best(|d| !is_head(&d.config))?;
        let diagnosis = best.diagnosis.as_ref()?;
        if diagnosis
            .verdicts
            .iter()
            .any(|v| v.severity > Severity::Low)
        {
            return None;
        }
        let fine_tunes = self.done.iter().filter(|d| !is_head(&d.config)).count();
        let copies = self
            .done
            .iter()
            .filter(|d| same_settings(&d.config, &best.config))
            .count();
        if fine_tunes < 2 || copies > MAX_REPLICAS {
            return None;
        }
        let verdicts: Vec<String> = diagnosis.verdicts.iter().map(verdict_label).collect();
        Some(Proposal {
            name: REPLICA.into(),
            why: format!(
                "after trial {}, the best fine-tune: its verdicts are all low ({}) → the same settings with another seed, for the ensemble (seed-to-seed differences are as large as most changes)",
                best.trial.index,
                verdicts.join(", ")
            ),
            config: best.config.clone(),
        })
    }

    /// Runs `proposal` unless it was tried (a replica may repeat settings), the search has
    /// ended, or the budget (within the phase's share) does not allow it; returns whether it
    /// ran.
    fn attempt(&mut self, proposal: Proposal, phase: Phase) -> Result<bool> {
        let proposal = self.normalise(proposal);
        if self.ended.is_some()
            || (proposal.name != REPLICA && self.tried(&proposal.config))
            || !self.affordable(&proposal.config, phase)
        {
            return Ok(false);
        }
        if !self.observer.keep_going() {
            self.ended = Some("interrupted".into());
            return Ok(false);
        }
        self.run(proposal)?;
        Ok(true)
    }

    /// Runs one trial in its session and records it.
    fn run(&mut self, proposal: Proposal) -> Result<()> {
        proposal.config.validate()?;
        let index = self.done.len() + 1;
        let run_dir = format!("{TRIALS_DIR}/{index:02}-{}", proposal.name);
        let dir = self.out.join(&run_dir);
        let observer = self.observer;
        // Fine-tunes after the first start from their own seed (head initialisation, batch
        // order, dropout): their differences then include the run-to-run noise a user
        // would see, and together they make a diverse ensemble (see [`super::ensemble`]).
        // The validation split stays the base seed's (`split_seed`), so every trial is
        // scored on the same rows.
        let earlier = self.done.iter().filter(|d| !is_head(&d.config)).count();
        let mut config = TrainConfig {
            out: dir.clone(),
            ..proposal.config.clone()
        };
        if !is_head(&config) && earlier > 0 {
            config.split_seed = Some(self.base.split_seed.unwrap_or(self.base.seed));
            config.seed = self.base.seed.wrapping_add(earlier as u64);
        }
        let cv = self.cv.clone();
        let head = is_head(&config);
        let budget = self.budget.clone();
        let whole = self.whole_share();
        let session = self.session(&config)?;
        session.config = config.clone();
        prepare_run_dir(&dir, &config, false)?;
        let start = Instant::now();
        let outcome = match &cv {
            Some(cv) => {
                // Head-only trials run every fold (seconds each); a fine-tune runs folds
                // while they fit in its share of the time left.
                let allowance = budget.remaining().map(|r| r * FOLD_SHARE);
                let mut more = |done: usize, seconds: f64| {
                    let per_fold = seconds / done.max(1) as f64;
                    head || (allowance.is_none_or(|a| seconds + per_fold <= a)
                        && budget.fits(Some(per_fold), whole))
                };
                cross_validate_in_session(
                    session,
                    &cv.folds,
                    &dir,
                    &mut more,
                    &TrialObserver(observer),
                )
                .map(|(run, folds)| (run, Some(folds)))
            }
            None => {
                train_in_session(session, &dir, false, &TrialObserver(observer)).map(|r| (r, None))
            }
        };
        let seconds = start.elapsed().as_secs_f64();
        // Trials are never resumed: their checkpoints would only take room.
        remove_if_there(&dir.join(CHECKPOINT_FILE))?;
        let (result, cv_run, error) = match outcome {
            Ok((result, cv_run)) => (Some(result), cv_run, None),
            Err(Error::Interrupted { .. }) => {
                self.ended = Some("interrupted".into());
                std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                return Ok(());
            }
            // A diverged loss is a finding about the setting, not the end of the search; any
            // other error is the user's to see.
            Err(Error::Diverged(message)) => (None, None, Some(message)),
            Err(other) => return Err(other),
        };
        let mut trial = self.record(
            index,
            &proposal,
            &config,
            run_dir,
            result.as_ref(),
            error,
            seconds,
        )?;
        if let (Some(c), Some(cv)) = (&cv_run, &cv) {
            // Scores on fewer folds than all are put on the footing of all rows by the best
            // trial that ran every fold.
            let reference = self
                .best(|d| d.trial.cv.as_ref().is_some_and(|c| c.folds.len() == c.k))
                .map(|d| (d.trial.index, self.out.join(&d.trial.run_dir)));
            let (record, value) = cv_record(
                &self.select,
                cv.folds.folds.len(),
                c,
                trial.val_metric,
                reference.as_ref().map(|(i, p)| (*i, p.as_path())),
            )?;
            trial.val_metric = value;
            trial.cv = Some(record);
        }
        trial.append(&self.out.join(TRIALS_FILE))?;
        observer.message(&trial.summary());
        self.done.push(Done {
            trial,
            config,
            diagnosis: result.map(|r| r.diagnosis),
        });
        Ok(())
    }

    /// The trial record of a run.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        index: usize,
        proposal: &Proposal,
        config: &TrainConfig,
        run_dir: String,
        result: Option<&RunResult>,
        error: Option<String>,
        seconds: f64,
    ) -> Result<Trial> {
        let val = result
            .map(|r| {
                SCALAR_METRICS
                    .iter()
                    .map(|m| (m.to_string(), r.val.get(m)))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Trial {
            index,
            name: proposal.name.clone(),
            why: proposal.why.clone(),
            changes: changes(&self.base, config)?,
            session: SessionKey::of(config).to_string(),
            run_dir,
            verdicts: result
                .map(|r| r.diagnosis.verdicts.iter().map(verdict_label).collect())
                .unwrap_or_default(),
            select_metric: self.select.name.clone(),
            val_metric: result.and_then(|r| self.select.value(r.val_loss, &r.val)),
            val_loss: result.map(|r| r.val_loss),
            val,
            epochs: config.epochs,
            epochs_run: result.map_or(0, |r| r.epochs_run),
            best_epoch: result.and_then(|r| r.best_epoch),
            seconds,
            error,
            chosen: false,
            in_ensemble: false,
            cv: None,
        })
    }

    /// The open session for `config`'s key, opened now (closing the oldest) when needed.
    fn session(&mut self, config: &TrainConfig) -> Result<&mut Session> {
        let key = SessionKey::of(config);
        let position = match self.sessions.iter().position(|(k, _)| *k == key) {
            Some(position) => position,
            None => {
                if self.sessions.len() >= OPEN_SESSIONS {
                    self.sessions.remove(0);
                }
                self.observer
                    .message(&format!("preparing a session: {key}"));
                let session = Session::open(config, self.observer)?;
                // Stored under the key of what it holds: `max_len` may have been clamped to
                // the model's positions.
                self.sessions
                    .push((SessionKey::of(&session.config), session));
                self.sessions.len() - 1
            }
        };
        Ok(&mut self.sessions[position].1)
    }

    /// `proposal` with its input window within the model's (as sessions clamp it), so
    /// that comparisons and session keys see what will run.
    fn normalise(&self, mut proposal: Proposal) -> Proposal {
        if let Some(ctx) = &self.ctx {
            proposal.config.max_len = proposal.config.max_len.min(ctx.positions);
        }
        proposal
    }

    /// Whether a configuration with the same settings (the seed aside) ran already.
    fn tried(&self, config: &TrainConfig) -> bool {
        self.done.iter().any(|d| same_settings(&d.config, config))
    }

    /// The share of the time limit trials may use: with a test file, the end of the search
    /// scores it once per ensemble member.
    fn whole_share(&self) -> f64 {
        if self.test.is_some() {
            1.0 - FINISH_SHARE
        } else {
            1.0
        }
    }

    /// Whether the budget allows `config` as a trial of `phase`.
    fn affordable(&self, config: &TrainConfig, phase: Phase) -> bool {
        let done = self.done.len();
        if !self.budget.trials_left(done) {
            return false;
        }
        let estimate = self.estimate(config);
        let whole = self.whole_share();
        match phase {
            Phase::First => self.budget.fits(estimate, whole),
            Phase::Head => {
                let cap = self.budget.max_trials().map(|n| (n / 2).max(1));
                cap.is_none_or(|cap| done < cap) && self.budget.fits(estimate, HEAD_SHARE)
            }
            Phase::FineTune => self.budget.fits(estimate, whole),
        }
    }

    /// Seconds `config` is expected to take: the seconds per epoch of the latest finished
    /// trial in the same session, times its epochs; for a fine-tune in a new session, a
    /// finished fine-tune's, scaled by the layers trained and the input window. `None`
    /// for the first of its kind.
    fn estimate(&self, config: &TrainConfig) -> Option<f64> {
        let finished = || {
            self.done
                .iter()
                .rev()
                .filter(|d| d.trial.error.is_none() && d.trial.epochs_run > 0)
        };
        // A cross-validated trial's seconds cover its folds (and a head's refit): the
        // estimate is of one fold, as many times over as a head-only trial runs.
        let runs = |d: &Done| {
            d.trial
                .cv
                .as_ref()
                .map_or(1, |c| c.folds.len() + usize::from(is_head(&d.config)))
        };
        let per_epoch = |d: &Done| d.trial.seconds / (d.trial.epochs_run * runs(d)).max(1) as f64;
        let times = match &self.cv {
            Some(cv) if is_head(config) => cv.folds.folds.len() + 1,
            _ => 1,
        } as f64;
        let key = SessionKey::of(config);
        if let Some(same) = finished().find(|d| SessionKey::of(&d.config) == key) {
            return Some(per_epoch(same) * config.epochs as f64 * times);
        }
        if is_head(config) {
            return None;
        }
        let layers = self.ctx.as_ref().map_or(1, |c| c.layers).max(1);
        let trained = |l: TrainLayers| match l {
            TrainLayers::Top(k) => k.min(layers).max(1) as f64,
            TrainLayers::All => layers as f64 + 1.0,
        };
        let other = finished().find(|d| !is_head(&d.config))?;
        Some(
            per_epoch(other) * config.epochs as f64 * trained(config.train_layers)
                / trained(other.config.train_layers)
                * config.max_len as f64
                / other.config.max_len as f64,
        )
    }

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

fn remove_if_there(path: &Path) -> Result<()> {
    if path.exists() {
        std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
    }
    Ok(())
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
    fn epoch_end(&self, _record: &Map<String, Value>) {}
    fn keep_going(&self) -> bool {
        self.0.keep_going()
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
