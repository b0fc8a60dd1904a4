//! The end of a search: the choice by validation score, the chosen model in the run folder,
//! the test file scored once for the chosen and the first trial, and `auto.json`.

use std::path::Path;

use candle_core::Device;
use serde_json::{json, Value};

use crate::decision::apply;
use crate::error::{Error, Result};
use crate::model::SavedClassifier;
use crate::train::data::read_texts;
use crate::train::evaluate::{predict_texts, score};
use crate::train::trainer::{
    write_json, write_predictions, CHECKPOINT_FILE, CONFIG_FILE, METRICS_FILE, MODEL_DIR,
    TEST_PREDICTIONS_FILE,
};
use crate::train::{Observer, TrainConfig};

use super::search::{best_of, AutoResult, Done, Finished, TestScore};
use super::trial::write_trials;
use super::{AUTO_FILE, TRIALS_FILE};

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
    for d in &mut done {
        d.trial.chosen = d.trial.index == chosen;
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

    let test = match &config.test {
        Some(test) => {
            let scored =
                |d: &Done| score_test(&out.join(&d.trial.run_dir), test, &config, observer);
            let chosen_score = scored(chosen)?;
            write_predictions(
                &out.join(TEST_PREDICTIONS_FILE),
                &chosen_score.labels,
                &chosen_score.targets,
                &chosen_score.proba,
            )?;
            let first_score = if first.trial.index == chosen.trial.index {
                chosen_score.score.clone()
            } else {
                scored(first)?.score
            };
            add_test_metrics(&out.join(METRICS_FILE), &chosen_score.score)?;
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
                .map_err(|e| Error::Invalid(e.to_string()))?,
        }))
    };
    let doc = json!({
        "select_metric": select.name,
        "test_file": config.test,
        "chosen": summary(chosen, test.as_ref().map(|t| &t.0))?,
        "first": summary(first, test.as_ref().map(|t| &t.1))?,
        "budget": {
            "minutes": budget.limit_seconds().map(|s| s / 60.0),
            "max_trials": budget.max_trials(),
            "seconds_used": seconds,
            "trials_run": trials.len(),
        },
        "ended": ended,
    });
    write_json(&out.join(AUTO_FILE), &doc)?;

    // Only the chosen and the first trial keep their model: the others' would be copies of
    // the same encoder, hundreds of MB each for a real one. Their curves, metrics and
    // verdicts stay.
    for d in &done {
        if d.trial.index != chosen.trial.index && d.trial.index != first.trial.index {
            let model = out.join(&d.trial.run_dir).join(MODEL_DIR);
            if model.is_dir() {
                std::fs::remove_dir_all(&model).map_err(|e| Error::io(&model, e))?;
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

/// A model's scores on the test file, with what `predictions_test.json` needs.
struct Scored {
    score: TestScore,
    labels: crate::data::LabelMap,
    targets: Vec<usize>,
    proba: Vec<Vec<f64>>,
}

/// Scores the model saved in the run folder `run` on the labelled file `test`, under the
/// decision rule saved with it, as `goodfit eval` would.
fn score_test(
    run: &Path,
    test: &Path,
    config: &TrainConfig,
    observer: &dyn Observer,
) -> Result<Scored> {
    let saved = SavedClassifier::open(&run.join(MODEL_DIR), &Device::Cpu)?;
    let (texts, dataset) = read_texts(test, config, observer)?;
    let labels = saved.info.label_map();
    let targets = dataset.class_indices(&labels)?;
    observer.eval_start("test", texts.len());
    let logits = predict_texts(&saved, &texts, config.eval_batch_size, &mut |n| {
        observer.eval_progress(n)
    })?;
    let scored = score(&logits, &targets, &labels)?;
    let metrics = match &saved.info.decision {
        Some(rule) => apply(&scored.proba, &targets, &labels, rule)?,
        None => scored.metrics,
    };
    Ok(Scored {
        score: TestScore {
            loss: scored.loss,
            metrics,
        },
        labels,
        targets,
        proba: scored.proba,
    })
}

/// Adds the test scores to a copied `metrics.json` (its trial never saw the test file).
fn add_test_metrics(path: &Path, score: &TestScore) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut doc: Value = serde_json::from_str(&text).map_err(|e| Error::Invalid(e.to_string()))?;
    if let Value::Object(fields) = &mut doc {
        fields.insert("test_loss".into(), json!(score.loss));
        fields.insert(
            "test".into(),
            serde_json::to_value(&score.metrics).map_err(|e| Error::Invalid(e.to_string()))?,
        );
    }
    write_json(path, &doc)
}
