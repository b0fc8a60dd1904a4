//! The search's phases: the head-only trials and the recipe, the fine-tunes the verdicts
//! call for, larger trials when the data allows, and replicas of the best.

use super::*;

/// The share of training rows the audit must flag for the search to try a fine-tune
/// without them: under 2% a difference would be within the noise of the fine-tune itself.
pub const DROP_SHARE: f64 = 0.02;

impl Search<'_> {
    /// Opens the head-only session, makes the recipe and runs the head-only trials.
    pub(super) fn head_phase(&mut self) -> Result<Recipe> {
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
        let names: Vec<String> = data.labels.names();
        let val_counts = class_counts(&data.val.targets, names.len());
        let rows = data.train.len() + data.val.len();
        let cv = match folds::plan(cv_folds, val_file, &val_counts, &names, rows) {
            Plan::Folds(k, why) => {
                // The pool every cross-validated session builds: training rows, then
                // validation rows (the split is the same in every session).
                let pooled = Pool::targets(session)?;
                let folds = stratified_kfold(&pooled, &names, k, split_seed)?;
                for note in &folds.notes {
                    observer.message(note);
                }
                observer.message(&why);
                Ok(SearchCv {
                    folds,
                    why,
                    fine_tune_folds: None,
                })
            }
            Plan::Split(why) => Err(why),
        };
        let ctx = Context {
            layers: crate::model::registry::blocks(&session.folder),
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
    pub(super) fn fine_tune_phase(&mut self, recipe: &Recipe) -> Result<()> {
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
        if let Some(dropped) = self.without_flagged().map(|p| self.normalise(p)) {
            if self.budget.trials_left(self.done.len())
                && !self.tried(&dropped.config)
                && self.affordable(&dropped.config, Phase::FineTune)
            {
                self.attempt(dropped, Phase::FineTune)?;
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

    /// The best fine-tune without the training rows the audit (`--audit`) flags as
    /// probably mislabelled, when it flags at least [`DROP_SHARE`] of them and no trial
    /// left them out yet; judged on the same validation rows as every trial.
    pub(super) fn without_flagged(&self) -> Option<Proposal> {
        let (audit, flagged) = self.audit.as_ref()?;
        let best = self.best(|d| !is_head(&d.config))?;
        let share = flagged.len() as f64 / audit.rows.max(1) as f64;
        if best.config.drop_flagged || share < DROP_SHARE {
            return None;
        }
        Some(Proposal {
            name: "drop-flagged".into(),
            why: format!(
                "after trial {}: the audit flags {} of {} training rows ({:.0}%) as probably mislabelled → the same fine-tune without them (validation keeps its rows)",
                best.trial.index,
                flagged.len(),
                audit.rows,
                100.0 * share
            ),
            config: TrainConfig {
                drop_flagged: true,
                drop_lines: flagged.clone(),
                ..best.config.clone()
            },
        })
    }

    /// Whether the best fine-tune's verdicts are all of low severity.
    pub(super) fn best_is_calm(&self) -> bool {
        self.best(|d| !is_head(&d.config))
            .and_then(|d| d.diagnosis.as_ref())
            .is_some_and(|v| v.verdicts.iter().all(|v| v.severity <= Severity::Low))
    }

    /// A trial with more capacity than the best fine-tune (every layer, a longer window;
    /// see [`super::capacity`]) that was not tried and fits in the time left. The rules
    /// that do not apply, and the trials that do not fit, are noted for `auto.json`.
    pub(super) fn larger_trial(&mut self) -> Option<Proposal> {
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
    pub(super) fn replica_of_best(&self) -> Option<Proposal> {
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
}
