//! The end of a search: the choice by validation score (the best trial, or the ensemble of
//! those within noise of it), the chosen model in the run folder, the test file scored once
//! for the choice and the first trial, and `auto.json`.

use std::path::Path;

use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::train::cross_val::FOLDS_DIR;
use crate::train::predictor::{EnsembleInfo, ENSEMBLE_FILE};
use crate::train::test_scoring::{score_test, TestScore};
use crate::train::trainer::{
    write_json, write_predictions, CHECKPOINT_FILE, CONFIG_FILE, METRICS_FILE, MODEL_DIR,
    VAL_PREDICTIONS_FILE,
};
use crate::train::TrainConfig;

use super::ensemble::{consider, Ensemble};
use super::outcome::{best_of, AutoResult, Done, Finished};
use super::trial::write_trials;
use super::{AUTO_FILE, TRIALS_FILE};
use crate::run_folder::metrics::RunMetrics;

/// Chooses the best trial, makes the run folder hold its model, scores the test file once
/// for it and for the first trial, and writes `trials.jsonl`, `auto.json` and the report.
pub(crate) fn finish(search: Finished<'_>) -> Result<AutoResult> {
    let Finished {
        config,
        select,
        budget,
        observer,
        mut done,
        ended,
        capacity,
        cv,
        single_split,
    } = search;
    let out = &config.out;
    let chosen = best_of(&select, done.iter())
        .map(|d| d.trial.index)
        .ok_or_else(|| no_trial_finished(&done))?;
    // The baseline: the first trial that finished (the first one, unless it failed).
    let first = done
        .iter()
        .find(|d| d.trial.error.is_none())
        .map_or(chosen, |d| d.trial.index);
    let ensemble = consider(&select, &done, out, config.seed)?;
    if let Some(e) = &ensemble {
        observer.message(&e.why(&select));
    }
    let chosen_ensemble = ensemble.as_ref().filter(|e| e.chosen);
    for d in &mut done {
        d.trial.chosen = d.trial.index == chosen;
        d.trial.in_ensemble = chosen_ensemble.is_some_and(|e| e.members.contains(&d.trial.index));
    }
    let trials: Vec<_> = done.iter().map(|d| d.trial.clone()).collect();
    write_trials(&out.join(TRIALS_FILE), &trials)?;
    let find = |index: usize| -> &Done {
        done.iter()
            .find(|d| d.trial.index == index)
            .expect("a recorded trial")
    };
    let (chosen, first) = (find(chosen), find(first));
    observer.message(&format!(
        "chosen: trial {} {} (val {} {}); the search ended: {ended}",
        chosen.trial.index,
        chosen.trial.name,
        select.name,
        chosen
            .trial
            .val_metric
            .map_or("undefined".into(), |v| format!("{v:.4}"))
    ));

    let chosen_dir = out.join(&chosen.trial.run_dir);
    copy_run(&chosen_dir, out)?;
    // The run folder's settings are the chosen trial's, with its own place and the test
    // file: `goodfit train --config RUN_DIR/config.toml` trains the chosen model again.
    let settings = TrainConfig {
        out: out.clone(),
        test: config.test.clone(),
        ..chosen.config.clone()
    };
    crate::io::write_atomic(&out.join(CONFIG_FILE), settings.to_toml()?.as_bytes())?;
    let ensemble_file = out.join(ENSEMBLE_FILE);
    match chosen_ensemble {
        Some(e) => write_ensemble(out, e, &select)?,
        // A cross-validated fine-tune's own ensemble (its fold models) came with its run
        // folder; any other is an earlier search's.
        None if ensemble_file.exists() && !chosen_dir.join(ENSEMBLE_FILE).is_file() => {
            std::fs::remove_file(&ensemble_file).map_err(|e| Error::io(&ensemble_file, e))?
        }
        None => {}
    }

    let test = match &config.test {
        Some(test) => {
            let scored = |dir: &Path| score_test(dir, test, &config, observer);
            // The run folder predicts with the ensemble when it has one, as `eval` does.
            let chosen_score = match chosen_ensemble {
                Some(_) => scored(out)?,
                None => scored(&out.join(&chosen.trial.run_dir))?,
            };
            let first_score =
                if first.trial.index == chosen.trial.index && chosen_ensemble.is_none() {
                    chosen_score.score.clone()
                } else {
                    scored(&out.join(&first.trial.run_dir))?.score
                };
            chosen_score.write(out)?;
            Some((chosen_score.score, first_score))
        }
        None => None,
    };
    let diagnosis = chosen
        .diagnosis
        .clone()
        .unwrap_or(crate::diagnose::Diagnosis {
            verdicts: Vec::new(),
        });

    let seconds = budget.elapsed();
    let summary = |d: &Done, score: Option<&TestScore>| -> Result<Value> {
        Ok(json!({
            "index": d.trial.index,
            "name": d.trial.name,
            "run_dir": d.trial.run_dir,
            "val_metric": d.trial.val_metric,
            "val_loss": d.trial.val_loss,
            "test_loss": score.map(|s| s.loss),
            "test": score.map(|s| serde_json::to_value(&s.metrics)).transpose()
                .map_err(Error::serialization)?,
        }))
    };
    // The choice's test scores; for an ensemble, its own validation scores and members
    // over those of the best trial (whose index it keeps: `model/` is that trial's).
    let mut chosen_doc = summary(chosen, test.as_ref().map(|t| &t.0))?;
    if let Some(e) = chosen_ensemble {
        chosen_doc["name"] = json!("ensemble");
        chosen_doc["members"] = json!(e.members);
        chosen_doc["run_dir"] = json!(".");
        chosen_doc["val_metric"] = json!(e.val_metric);
        chosen_doc["val_loss"] = json!(e.val_loss);
    }
    let doc = json!({
        "select_metric": select.name,
        "test_file": config.test,
        "chosen": chosen_doc,
        "first": summary(first, test.as_ref().map(|t| &t.1))?,
        "best_single": summary(chosen, None)?,
        "ensemble": ensemble.as_ref().map(|e| json!({
            "members": e.members,
            "val_metric": e.val_metric,
            "val_loss": e.val_loss,
            "best_single_val_metric": e.best_metric,
            "standard_error": e.noise,
            "chosen": e.chosen,
            "why": e.why(&select),
        })),
        "budget": {
            "minutes": budget.limit_seconds().map(|s| s / 60.0),
            "max_trials": budget.max_trials(),
            "seconds_used": seconds,
            "trials_run": trials.len(),
        },
        "ended": ended,
        "capacity_not_tried": capacity,
        "cross_validation": cv.as_ref().map(|cv| json!({
            "k": cv.folds.folds.len(),
            "why": cv.why,
            "fine_tune_folds": cv.fine_tune_folds.as_ref().map(|(m, _)| m),
            "fine_tune_folds_why": cv.fine_tune_folds.as_ref().map(|(_, why)| why),
            "fold_rows": cv.folds.folds.iter().map(Vec::len).collect::<Vec<_>>(),
            "notes": cv.folds.notes,
            "chosen_fold_scores": chosen.trial.cv.as_ref().map(|c| &c.fold_scores),
            "chosen_standard_error": chosen.trial.cv.as_ref().and_then(|c| c.standard_error),
        })),
        "single_split": single_split,
        "format": crate::run_folder::records::FORMAT,
    });
    write_json(&out.join(AUTO_FILE), &doc)?;

    // Only the chosen trial, the ensemble's members and the first trial keep their model:
    // the others' would be copies of the same encoder, hundreds of MB each for a real one.
    // Their curves, metrics and verdicts stay.
    for d in &done {
        if d.trial.index != chosen.trial.index
            && d.trial.index != first.trial.index
            && !d.trial.in_ensemble
        {
            for kept in [MODEL_DIR, FOLDS_DIR] {
                let dir = out.join(&d.trial.run_dir).join(kept);
                if dir.is_dir() {
                    std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                }
            }
            let own = out.join(&d.trial.run_dir).join(ENSEMBLE_FILE);
            if own.is_file() {
                std::fs::remove_file(&own).map_err(|e| Error::io(&own, e))?;
            }
        }
    }
    crate::report::write_report(out)?;
    let (chosen, first) = (chosen.trial.clone(), first.trial.clone());
    Ok(AutoResult {
        out: out.clone(),
        trials,
        chosen,
        first,
        ensemble: chosen_ensemble.map(|e| e.members.clone()),
        test,
        diagnosis,
        seconds,
        ended,
    })
}

/// The error when no trial finished: the first trial's own, which says what went wrong.
fn no_trial_finished(done: &[Done]) -> Error {
    match done.iter().find_map(|d| d.trial.error.as_ref()) {
        Some(error) => Error::Invalid(format!("no trial finished; the first failed: {error}")),
        None => {
            Error::Invalid("no trial ran: the budget allowed none (raise --budget-minutes)".into())
        }
    }
}

/// Copies a trial's run folder into the search's: every file a run folder has, the model
/// included, but not the checkpoint (trials are not resumed) or the report (written anew).
fn copy_run(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from).map_err(|e| Error::io(from, e))? {
        let path = entry.map_err(|e| Error::io(from, e))?.path();
        let name = path.file_name().unwrap_or_default();
        let target = to.join(name);
        if path.is_dir() {
            if target.exists() {
                std::fs::remove_dir_all(&target).map_err(|e| Error::io(&target, e))?;
            }
            std::fs::create_dir_all(&target).map_err(|e| Error::io(&target, e))?;
            copy_run(&path, &target)?;
        } else if name != CHECKPOINT_FILE && name != crate::report::REPORT_FILE {
            std::fs::copy(&path, &target).map_err(|e| Error::io(&target, e))?;
        }
    }
    Ok(())
}

/// Makes the run folder the ensemble's: `ensemble.json`, and the validation predictions,
/// metrics and decision rule in `metrics.json` of the averaged probabilities (the curves
/// and weights stay those of the best member, whose model is `model/`).
fn write_ensemble(out: &Path, e: &Ensemble, select: &super::select::SelectMetric) -> Result<()> {
    let spec = EnsembleInfo {
        members: e.models.iter().map(Into::into).collect(),
        decision: e.decision.clone(),
        weights: e
            .weights
            .iter()
            .any(|w| (w - e.weights[0]).abs() > 1e-12)
            .then(|| e.weights.clone()),
    };
    write_json(&out.join(ENSEMBLE_FILE), &spec)?;
    write_predictions(
        &out.join(VAL_PREDICTIONS_FILE),
        &e.labels,
        &e.targets,
        &e.proba,
    )?;
    let why = e.why(select);
    RunMetrics::update(&out.join(METRICS_FILE), |metrics| {
        let best_val = std::mem::replace(&mut metrics.val, json!(e.val));
        metrics.val_loss = Some(e.val_loss).filter(|x| x.is_finite());
        // The single model's tuned rule no longer applies; the ensemble's is below.
        metrics.decision = None;
        metrics.ensemble = Some(json!({
            "members": e.members,
            "models": e.models,
            "decision": e.decision,
            "why": why,
            "best_single_val": best_val,
        }));
    })
}
