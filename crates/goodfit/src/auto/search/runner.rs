//! Running one trial: its limits, its session, its run folder, cross-validated or not,
//! and its record.

use super::*;
use crate::pipeline::diagnose_and_report;
use crate::run_folder::summaries::{RunAudit, Summary};
use crate::run_folder::AUDIT_SUMMARY_FILE;

impl<'a> Search<'a> {
    /// Runs `proposal` unless it was tried (a replica may repeat settings), the search has
    /// ended, or the budget (within the phase's share) does not allow it; returns whether it
    /// ran.
    pub(super) fn attempt(&mut self, proposal: Proposal, phase: Phase) -> Result<bool> {
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
    pub(super) fn run(&mut self, proposal: Proposal) -> Result<()> {
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
        // Checked before its run folder is made (a new session checked it on opening).
        session.config = config.check()?;
        prepare_run_dir(&dir, &config, false)?;
        let start = Instant::now();
        let outcome = match &cv {
            Some(cv) => {
                // Head-only trials run every fold (seconds each); fine-tunes the same first
                // `m`, fixed by the first fine-tune's first fold (`folds::fine_tune_folds`),
                // unless the time is all gone.
                let k = cv.folds.folds.len();
                let left_at_start = budget.left(whole);
                let mut planned = cv.fine_tune_folds.clone();
                let mut more = |done: usize, seconds: f64| {
                    if head {
                        return true;
                    }
                    let (m, _) = planned.get_or_insert_with(|| {
                        folds::fine_tune_folds(k, seconds / done.max(1) as f64, left_at_start)
                    });
                    done < *m && budget.fits(None, whole)
                };
                let outcome = cross_validate_in_session(
                    session,
                    &cv.folds,
                    &dir,
                    &mut more,
                    &TrialObserver(observer),
                );
                if let (Some(search_cv), Some(plan)) = (self.cv.as_mut(), planned) {
                    if search_cv.fine_tune_folds.is_none() {
                        observer.message(&plan.1);
                        search_cv.fine_tune_folds = Some(plan);
                    }
                }
                outcome.map(|(run, folds)| (run, Some(folds)))
            }
            None => {
                train_in_session(session, &dir, false, &TrialObserver(observer)).map(|r| (r, None))
            }
        };
        let seconds = start.elapsed().as_secs_f64();
        // Trials are never resumed: their checkpoints would only take room.
        crate::io::remove_entry(&dir.join(CHECKPOINT_FILE))?;
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
        if let (Some(_), Some((audit, flagged))) = (&result, &self.audit) {
            let summary = RunAudit {
                dropped: if config.drop_flagged {
                    flagged.len()
                } else {
                    0
                },
                ..audit.clone()
            };
            summary.write(&dir.join(AUDIT_SUMMARY_FILE))?;
        }
        let diagnosis = match &result {
            Some(_) => Some(diagnose_and_report(&dir)?),
            None => None,
        };
        let mut trial = self.record(
            index,
            &proposal,
            &config,
            run_dir,
            result.as_ref().zip(diagnosis.as_ref()),
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
            diagnosis,
        });
        Ok(())
    }

    /// The trial record of a run.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn record(
        &self,
        index: usize,
        proposal: &Proposal,
        config: &TrainConfig,
        run_dir: String,
        result: Option<(&RunResult, &Diagnosis)>,
        error: Option<String>,
        seconds: f64,
    ) -> Result<Trial> {
        let (result, diagnosis) = (result.map(|r| r.0), result.map(|r| r.1));
        let val = result
            .map(|r| {
                SCALAR_METRICS
                    .iter()
                    .map(|m| (m.to_string(), r.val.get(m)))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Trial {
            format: crate::run_folder::records::FORMAT,
            index,
            name: proposal.name.clone(),
            why: proposal.why.clone(),
            changes: changes(&self.base, config)?,
            session: SessionKey::of(config).to_string(),
            run_dir,
            verdicts: diagnosis
                .map(|d| d.verdicts.iter().map(verdict_label).collect())
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
    pub(super) fn session(&mut self, config: &TrainConfig) -> Result<&mut Session> {
        let key = SessionKey::of(config);
        let position = match self.sessions.iter().position(|(k, _)| *k == key) {
            Some(position) => position,
            None => {
                if self.sessions.len() >= OPEN_SESSIONS {
                    self.sessions.remove(0);
                }
                self.observer
                    .message(&format!("preparing a session: {key}"));
                let session = Session::open(&config.check()?, self.observer)?;
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
    pub(super) fn normalise(&self, mut proposal: Proposal) -> Proposal {
        if let Some(ctx) = &self.ctx {
            proposal.config.max_len = proposal.config.max_len.min(ctx.positions);
        }
        proposal
    }

    /// Whether a configuration with the same settings (the seed aside) ran already.
    pub(super) fn tried(&self, config: &TrainConfig) -> bool {
        self.done.iter().any(|d| same_settings(&d.config, config))
    }

    /// The share of the time limit trials may use: with a test file, the end of the search
    /// scores it once per ensemble member.
    pub(super) fn whole_share(&self) -> f64 {
        if self.test.is_some() {
            1.0 - FINISH_SHARE
        } else {
            1.0
        }
    }

    /// Whether the budget allows `config` as a trial of `phase`.
    pub(super) fn affordable(&self, config: &TrainConfig, phase: Phase) -> bool {
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
    /// finished fine-tune's, scaled by the layers trained and the input window; when the
    /// search cross-validates, for every fold the trial will run. `None` for the first of
    /// its kind.
    pub(super) fn estimate(&self, config: &TrainConfig) -> Option<f64> {
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
            Some(cv) => cv.fine_tune_folds.as_ref().map_or(1, |(m, _)| *m),
            None => 1,
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
}
