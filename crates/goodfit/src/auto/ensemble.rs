//! The search's last step: the trials whose validation scores are within noise of the best
//! one, averaged.
//!
//! With a few hundred validation examples, fine-tunes that differ in a setting or a seed
//! score within a couple of points of each other, and which one ranks first is mostly
//! chance (on fine_foods, three fine-tunes scored macro-F1 0.814, 0.820 and 0.817 on 400
//! validation reviews). Averaging their probabilities, as scikit-learn's soft
//! `VotingClassifier` does, keeps what they agree on and cancels part of the noise each
//! carries. How close is close enough is measured, not assumed: one bootstrap standard
//! error of the best trial's validation score. The ensemble is chosen unless its own
//! validation score falls more than that below the best single trial's.
//!
//! "The best" is the best of every trial, head-only ones included, and head-only trials
//! are members like any other. An earlier rule compared the ensemble of fine-tunes only with
//! the best fine-tune: on a 387-article set whose validation split held one example of the
//! smallest class, it chose four fine-tunes averaging validation macro-F1 0.760 over a
//! head-only trial at 1.000, and lost 0.16 of test macro-F1 to it.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::LabelMap;
use crate::decision::{predict_all, DecisionRule};
use crate::error::Result;
use crate::metrics::{self, Metrics};
use crate::model::save::INFO_FILE;
use crate::model::ClassifierInfo;
use crate::run_folder::records::Predictions;
use crate::train::decide::{decide, read_json};
use crate::train::predictor::{average_proba, EnsembleInfo, ENSEMBLE_FILE};
use crate::train::trainer::{MODEL_DIR, VAL_PREDICTIONS_FILE};

use super::outcome::Done;
use super::select::SelectMetric;

/// The most members: the best ones within noise of the best.
pub const MAX_MEMBERS: usize = 4;

/// The most model folders an ensemble averages: a cross-validated fine-tune brings one per
/// fold, and each costs a pass over every text `predict` sees and a copy of the encoder on
/// disk. On a 387-text set, four 5-fold fine-tunes made an ensemble of 20 MiniLM folders
/// and a 2.7 GB run folder.
pub const MAX_MODELS: usize = 10;

/// Bootstrap resamples of the validation set for the standard error.
const BOOTSTRAP: usize = 200;

/// An ensemble the search considered.
#[derive(Debug, Clone)]
pub(crate) struct Ensemble {
    /// The members' trial indices, best first.
    pub members: Vec<usize>,
    /// Their model folders, relative to the search's run folder: a trial whose model is the
    /// average of its fold models (cross-validation) is its fold models.
    pub models: Vec<String>,
    /// Each model folder's weight in the average (each trial weighs alike).
    pub weights: Vec<f64>,
    /// The decision rule on the averaged probabilities (the best member's kind of rule,
    /// chosen again on them), or argmax.
    pub decision: Option<DecisionRule>,
    /// Validation loss of the averaged probabilities.
    pub val_loss: f64,
    /// Validation metrics under the decision rule.
    pub val: Metrics,
    /// The selection score of the ensemble on validation data.
    pub val_metric: Option<f64>,
    /// The best single trial's selection score.
    pub best_metric: f64,
    /// One bootstrap standard error of the best single trial's score.
    pub noise: f64,
    /// The averaged validation probabilities and the true classes.
    pub proba: Vec<Vec<f64>>,
    /// The true validation classes.
    pub targets: Vec<usize>,
    /// The classes.
    pub labels: LabelMap,
    /// Whether it is chosen over the best single trial.
    pub chosen: bool,
}

impl Ensemble {
    /// One sentence on the members and the choice, for the log and the report.
    pub fn why(&self, select: &SelectMetric) -> String {
        let members: Vec<String> = self.members.iter().map(|i| i.to_string()).collect();
        let value = self
            .val_metric
            .map_or("undefined".into(), |v| format!("{v:.4}"));
        format!(
            "Trials {} score within {:.4} (one standard error) of the best validation {} {:.4}; their averaged probabilities score {value}: {}",
            members.join(", "),
            self.noise,
            select.name,
            self.best_metric,
            if self.chosen {
                "the ensemble is chosen"
            } else {
                "more than that below the best, so the best single trial is kept"
            }
        )
    }
}

/// The ensemble of the finished trials of `done` (head-only or fine-tunes) within one
/// standard error of the best of them all, when there are two or more whose model and
/// validation predictions are in `out`.
pub(crate) fn consider(
    select: &SelectMetric,
    done: &[Done],
    out: &Path,
    seed: u64,
) -> Result<Option<Ensemble>> {
    let mut finished: Vec<&Done> = done
        .iter()
        .filter(|d| d.trial.error.is_none())
        .filter(|d| d.trial.val_metric.is_some())
        .filter(|d| {
            let dir = out.join(&d.trial.run_dir);
            dir.join(MODEL_DIR).is_dir() && dir.join(VAL_PREDICTIONS_FILE).is_file()
        })
        .collect();
    if finished.len() < 2 {
        return Ok(None);
    }
    // Stable: the earliest among equals comes first, as the search's own choice does.
    finished.sort_by(|a, b| select.compare(b.trial.val_metric, a.trial.val_metric));
    let best = finished[0];
    let best_metric = best.trial.val_metric.expect("filtered above");
    let dir = out.join(&best.trial.run_dir);
    let info: ClassifierInfo = read_json(&dir.join(MODEL_DIR).join(INFO_FILE))?;
    let labels = info.label_map();
    let best_val = Predictions::read(&dir.join(VAL_PREDICTIONS_FILE))?;
    // Cross-validated, the noise is the spread of the best trial's fold scores.
    let noise = match best.trial.cv.as_ref().and_then(|c| c.standard_error) {
        Some(noise) => noise,
        None => standard_error(select, &best_val, info.decision.as_ref(), &labels, seed),
    };
    let mut members = vec![best];
    let mut sets = vec![best_val.proba];
    // Each member's model folders, read once.
    let mut member_models = vec![trial_models(out, &best.trial.run_dir)?];
    let mut model_count = member_models[0].len();
    for &d in &finished[1..] {
        // The best few: each member costs a pass over every text `predict` sees.
        if members.len() == MAX_MEMBERS {
            break;
        }
        let value = d.trial.val_metric.expect("filtered above");
        if (value - best_metric).abs() > noise {
            continue;
        }
        let own = trial_models(out, &d.trial.run_dir)?;
        if model_count + own.len() > MAX_MODELS {
            continue;
        }
        let val = Predictions::read(&out.join(&d.trial.run_dir).join(VAL_PREDICTIONS_FILE))?;
        // Only predictions of the same validation rows can be averaged.
        if val.y_true == best_val.y_true && val.proba.len() == sets[0].len() {
            members.push(d);
            sets.push(val.proba);
            model_count += own.len();
            member_models.push(own);
        }
    }
    if members.len() < 2 {
        return Ok(None);
    }
    let slices: Vec<&[Vec<f64>]> = sets.iter().map(Vec::as_slice).collect();
    let proba = average_proba(&slices);
    let targets = best_val.y_true;
    let argmax = metrics::compute(&targets, &predict_all(&proba, None), Some(&proba), &labels)?;
    let decided = decide(
        &best.config,
        &labels,
        &info.class_counts,
        (&argmax, &proba, &targets),
        None,
    )?;
    let val_loss = log_loss(&argmax);
    let val_metric = select.value(val_loss, &decided.val);
    let sign = if select.higher_is_better { 1.0 } else { -1.0 };
    let chosen = select
        .compare(val_metric, Some(best_metric - sign * noise))
        .is_ge();
    let mut models = Vec::new();
    let mut weights = Vec::new();
    for own in member_models {
        let share = 1.0 / (members.len() * own.len()) as f64;
        weights.extend(std::iter::repeat_n(share, own.len()));
        models.extend(own);
    }
    Ok(Some(Ensemble {
        members: members.iter().map(|d| d.trial.index).collect(),
        models,
        weights,
        decision: decided.decision.map(|d| d.rule),
        val_loss,
        val: decided.val,
        val_metric,
        best_metric,
        noise,
        proba,
        targets,
        labels,
        chosen,
    }))
}

/// The model folders a trial's run folder `run_dir` predicts with, relative to `out`: the
/// members of its own `ensemble.json` (a cross-validated fine-tune's fold models), else its
/// `model/`.
fn trial_models(out: &Path, run_dir: &str) -> Result<Vec<String>> {
    let file = out.join(run_dir).join(ENSEMBLE_FILE);
    if !file.is_file() {
        return Ok(vec![format!("{run_dir}/{MODEL_DIR}")]);
    }
    let spec: EnsembleInfo = read_json(&file)?;
    Ok(spec
        .members
        .iter()
        .map(|m| format!("{run_dir}/{}", m.display()))
        .collect())
}

/// The mean negative log-likelihood of the true classes among `metrics` (NaN if undefined).
pub(crate) fn log_loss(metrics: &Metrics) -> f64 {
    metrics.get("log_loss").unwrap_or(f64::NAN)
}

/// The bootstrap standard error of `select` on `val` under `rule`: the spread of the score
/// over [`BOOTSTRAP`] resamples of the validation rows (seeded).
fn standard_error(
    select: &SelectMetric,
    val: &Predictions,
    rule: Option<&DecisionRule>,
    labels: &LabelMap,
    seed: u64,
) -> f64 {
    let n = val.y_true.len();
    if n == 0 {
        return 0.0;
    }
    let predicted = predict_all(&val.proba, rule);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xB0_07_57_4A);
    let mut values = Vec::with_capacity(BOOTSTRAP);
    for _ in 0..BOOTSTRAP {
        let rows: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
        let targets: Vec<usize> = rows.iter().map(|&r| val.y_true[r]).collect();
        let pred: Vec<usize> = rows.iter().map(|&r| predicted[r]).collect();
        let proba: Vec<Vec<f64>> = rows.iter().map(|&r| val.proba[r].clone()).collect();
        if let Ok(m) = metrics::compute(&targets, &pred, Some(&proba), labels) {
            if let Some(v) = select.value(log_loss(&m), &m) {
                values.push(v);
            }
        }
    }
    if values.len() < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64;
    var.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auto::Trial;
    use crate::data::Label;
    use crate::model::{Pooling, TrainLayers};
    use crate::train::TrainConfig;

    /// A finished fine-tune in `out` whose validation predictions are `proba`.
    fn fine_tune<const K: usize>(
        out: &Path,
        index: usize,
        proba: &[[f64; K]],
        targets: &[usize],
    ) -> Done {
        trial(out, index, proba, targets, TrainLayers::Top(2))
    }

    /// A finished trial training `layers` in `out` whose validation predictions are `proba`.
    fn trial<const K: usize>(
        out: &Path,
        index: usize,
        proba: &[[f64; K]],
        targets: &[usize],
        layers: TrainLayers,
    ) -> Done {
        let run_dir = format!("trials/{index:02}-t");
        let model = out.join(&run_dir).join(MODEL_DIR);
        std::fs::create_dir_all(&model).unwrap();
        let info = ClassifierInfo {
            labels: (0..K as i64).map(Label::Int).collect(),
            pooling: Pooling::Mean,
            max_len: 8,
            head_hidden: None,
            text_col: "text".into(),
            label_col: "label".into(),
            class_counts: vec![50; K],
            decision: None,
        };
        std::fs::write(model.join(INFO_FILE), serde_json::to_string(&info).unwrap()).unwrap();
        let predictions = serde_json::json!({
            "labels": (0..K).collect::<Vec<_>>(),
            "y_true": targets,
            "proba": proba.iter().map(|p| p.to_vec()).collect::<Vec<_>>(),
        });
        std::fs::write(
            out.join(&run_dir).join(VAL_PREDICTIONS_FILE),
            predictions.to_string(),
        )
        .unwrap();
        let labels = LabelMap::from_ordered(info.labels.clone());
        let predicted: Vec<Vec<f64>> = proba.iter().map(|p| p.to_vec()).collect();
        let m = metrics::compute(
            targets,
            &predict_all(&predicted, None),
            Some(&predicted),
            &labels,
        )
        .unwrap();
        Done {
            trial: Trial {
                run_dir,
                val_metric: m.get("f1_macro"),
                val_loss: Some(log_loss(&m)),
                ..Trial::example(index)
            },
            config: TrainConfig {
                train_layers: layers,
                ..TrainConfig::default()
            },
            diagnosis: None,
        }
    }

    #[test]
    fn cross_validated_members_bring_their_fold_models_within_the_model_cap() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let targets: Vec<usize> = (0..40).map(|i| i % 2).collect();
        let proba: Vec<[f64; 2]> = targets
            .iter()
            .map(|&t| if t == 1 { [0.3, 0.7] } else { [0.7, 0.3] })
            .collect();
        let done: Vec<Done> = (1..=3)
            .map(|i| {
                let d = fine_tune(out, i, &proba, &targets);
                let folds: Vec<String> = (1..=5).map(|f| format!("folds/{f}/model")).collect();
                std::fs::write(
                    out.join(&d.trial.run_dir).join(ENSEMBLE_FILE),
                    serde_json::json!({ "members": folds }).to_string(),
                )
                .unwrap();
                d
            })
            .collect();
        let select = SelectMetric::parse("f1_macro").unwrap();
        let e = consider(&select, &done, out, 7).unwrap().unwrap();
        assert_eq!(e.members, [1, 2], "a third would make 15 model folders");
        assert_eq!(e.models.len(), MAX_MODELS);
        assert_eq!(e.models[0], "trials/01-t/folds/1/model");
        assert!(e.weights.iter().all(|w| (w - 0.1).abs() < 1e-12));
    }

    #[test]
    fn a_better_head_only_trial_is_not_replaced_by_an_ensemble_of_worse_fine_tunes() {
        // The case seen on a 387-article, 5-class set: the validation split holds one
        // example of the smallest class; head-only trials get everything right (macro-F1
        // 1.000), the fine-tunes miss that example and some of another class (0.70–0.79).
        // The earlier rule compared the fine-tunes' ensemble only with the best fine-tune
        // and chose it.
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let mut targets: Vec<usize> = (0..38).map(|i| i % 4).collect();
        targets.push(4);
        let sure = |class: usize, p: f64| -> [f64; 5] {
            let mut row = [(1.0 - p) / 4.0; 5];
            row[class] = p;
            row
        };
        let right: Vec<[f64; 5]> = targets.iter().map(|&t| sure(t, 0.9)).collect();
        // Fine-tunes: the class-4 example taken for class 0, and `misses` rows of class 3
        // taken for class 2.
        let fine = |misses: usize| -> Vec<[f64; 5]> {
            let mut wrong3 = 0;
            targets
                .iter()
                .map(|&t| match t {
                    4 => sure(0, 0.6),
                    3 if wrong3 < misses => {
                        wrong3 += 1;
                        sure(2, 0.6)
                    }
                    t => sure(t, 0.8),
                })
                .collect()
        };
        let head = TrainLayers::Top(0);
        let done = vec![
            trial(out, 1, &right, &targets, head),
            trial(out, 2, &right, &targets, head),
            fine_tune(out, 3, &fine(1), &targets),
            fine_tune(out, 4, &fine(2), &targets),
            fine_tune(out, 5, &fine(3), &targets),
            fine_tune(out, 6, &fine(4), &targets),
        ];
        for d in &done[2..] {
            let f1 = d.trial.val_metric.unwrap();
            assert!((0.65..0.80).contains(&f1), "{f1}");
        }
        let select = SelectMetric::parse("f1_macro").unwrap();
        let e = consider(&select, &done, out, 7).unwrap().unwrap();
        assert_eq!(
            e.best_metric, 1.0,
            "the best of all trials, a head-only one"
        );
        assert_eq!(e.members[0], 1);
        assert!(
            e.members.contains(&2),
            "a head-only trial is a member like any other"
        );
        // Whatever is chosen scores within noise of the best trial.
        assert!(!e.chosen || e.val_metric.unwrap() >= e.best_metric - e.noise);
        assert!(e.noise < 0.2, "{}", e.noise);
        assert_eq!(
            e.members,
            [1, 2],
            "fine-tunes more than the noise below stay out"
        );
        assert!(e.chosen);
        assert_eq!(e.val_metric, Some(1.0));
    }

    #[test]
    fn fine_tunes_within_noise_are_averaged_and_a_clearly_worse_one_is_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        // 200 rows; models a and b each err on a different fifth of them (both 80% right),
        // so their average is surer where they agree; model c is right on half.
        let n = 200;
        let targets: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let model = |wrong: &dyn Fn(usize) -> bool, sure: f64| -> Vec<[f64; 2]> {
            (0..n)
                .map(|i| {
                    let right = !wrong(i);
                    let p1 = if (targets[i] == 1) == right {
                        sure
                    } else {
                        1.0 - sure
                    };
                    [1.0 - p1, p1]
                })
                .collect()
        };
        let a = model(&|i| i % 5 == 0, 0.9);
        let b = model(&|i| i % 5 == 1, 0.6);
        let c = model(&|i| i % 2 == 0, 0.7);
        let done = vec![
            fine_tune(out, 1, &a, &targets),
            fine_tune(out, 2, &b, &targets),
            fine_tune(out, 3, &c, &targets),
        ];
        let select = SelectMetric::parse("f1_macro").unwrap();
        let e = consider(&select, &done, out, 7).unwrap().unwrap();
        assert_eq!(
            e.members,
            [1, 2],
            "c is far more than a standard error below"
        );
        assert!(e.noise > 0.0 && e.noise < 0.1, "{}", e.noise);
        assert_eq!(e.models, ["trials/01-t/model", "trials/02-t/model"]);
        assert_eq!(e.weights, [0.5, 0.5]);
        // Averaged, a's confident votes win where they disagree: right on 80% + the rows
        // b alone gets wrong, i.e. every row but a's fifth.
        assert!((e.best_metric - 0.8).abs() < 1e-9);
        assert!((e.val_metric.unwrap() - 0.8).abs() < 1e-9);
        assert!(e.chosen);
        assert!((e.proba[0][1] - (a[0][1] + b[0][1]) / 2.0).abs() < 1e-12);
        assert!(e.why(&select).contains("Trials 1, 2"));
        // One fine-tune alone makes no ensemble.
        assert!(consider(&select, &done[..1], out, 7).unwrap().is_none());
    }

    #[test]
    fn the_standard_error_shrinks_with_more_rows_and_is_seeded() {
        let labels = LabelMap::from_ordered(vec![Label::Int(0), Label::Int(1)]);
        let select = SelectMetric::parse("f1_macro").unwrap();
        // A classifier right on 80% of the rows of each class.
        let make = |n: usize| {
            let targets: Vec<usize> = (0..n).map(|i| i % 2).collect();
            let proba: Vec<Vec<f64>> = (0..n)
                .map(|i| {
                    let right = (i / 2) % 5 != 0;
                    let p = if (i % 2 == 1) == right { 0.7 } else { 0.3 };
                    vec![1.0 - p, p]
                })
                .collect();
            Predictions::new(&labels, &targets, &proba)
        };
        let small = standard_error(&select, &make(100), None, &labels, 1);
        let large = standard_error(&select, &make(1600), None, &labels, 1);
        // Binomial: sqrt(0.8 · 0.2 / n) ≈ 0.040 and 0.010; the bootstrap is near both.
        assert!((0.025..0.055).contains(&small), "{small}");
        assert!((0.006..0.014).contains(&large), "{large}");
        assert_eq!(small, standard_error(&select, &make(100), None, &labels, 1));
    }
}
