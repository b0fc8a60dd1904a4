//! The search's last step: the fine-tunes whose validation scores are within noise of the
//! best one, averaged.
//!
//! With a few hundred validation examples, fine-tunes that differ in a setting or a seed
//! score within a couple of points of each other, and which one ranks first is mostly
//! chance (on fine_foods, three fine-tunes scored macro-F1 0.814, 0.820 and 0.817 on 400
//! validation reviews). Averaging their probabilities, as scikit-learn's soft
//! `VotingClassifier` does, keeps what they agree on and cancels part of the noise each
//! carries. How close is close enough is measured, not assumed: one bootstrap standard
//! error of the best trial's validation score. The ensemble is chosen unless its own
//! validation score falls more than that below the best single trial's.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::data::LabelMap;
use crate::decision::{predict_all, DecisionRule};
use crate::error::Result;
use crate::metrics::{self, Metrics};
use crate::model::save::INFO_FILE;
use crate::model::ClassifierInfo;
use crate::train::decide::{decide, read_json, SavedPredictions};
use crate::train::predictor::average_proba;
use crate::train::trainer::{MODEL_DIR, VAL_PREDICTIONS_FILE};

use super::search::{is_head, Done};
use super::select::SelectMetric;

/// The most members: the best ones within noise of the best.
pub const MAX_MEMBERS: usize = 4;

/// Bootstrap resamples of the validation set for the standard error.
const BOOTSTRAP: usize = 200;

/// An ensemble the search considered.
#[derive(Debug, Clone)]
pub(crate) struct Ensemble {
    /// The members' trial indices, best first.
    pub members: Vec<usize>,
    /// Their model folders, relative to the search's run folder.
    pub models: Vec<String>,
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
            "Trials {} score within {:.4} (one bootstrap standard error) of the best validation {} {:.4}; their averaged probabilities score {value}: {}",
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

/// The ensemble of the finished fine-tunes of `done` within one standard error of the
/// best, when there are two or more whose model and validation predictions are in `out`.
pub(crate) fn consider(
    select: &SelectMetric,
    done: &[Done],
    out: &Path,
    seed: u64,
) -> Result<Option<Ensemble>> {
    let mut tuned: Vec<&Done> = done
        .iter()
        .filter(|d| !is_head(&d.config) && d.trial.error.is_none())
        .filter(|d| d.trial.val_metric.is_some())
        .filter(|d| {
            let dir = out.join(&d.trial.run_dir);
            dir.join(MODEL_DIR).is_dir() && dir.join(VAL_PREDICTIONS_FILE).is_file()
        })
        .collect();
    if tuned.len() < 2 {
        return Ok(None);
    }
    tuned.sort_by(|a, b| select.compare(b.trial.val_metric, a.trial.val_metric));
    let best = tuned[0];
    let best_metric = best.trial.val_metric.expect("filtered above");
    let dir = out.join(&best.trial.run_dir);
    let info: ClassifierInfo = read_json(&dir.join(MODEL_DIR).join(INFO_FILE))?;
    let labels = info.label_map();
    let best_val: SavedPredictions = read_json(&dir.join(VAL_PREDICTIONS_FILE))?;
    let noise = standard_error(select, &best_val, info.decision.as_ref(), &labels, seed);
    let mut members = vec![best];
    let mut sets = vec![best_val.proba];
    for &d in &tuned[1..] {
        // The best few: each member costs a pass over every text `predict` sees.
        if members.len() == MAX_MEMBERS {
            break;
        }
        let value = d.trial.val_metric.expect("filtered above");
        if (value - best_metric).abs() > noise {
            continue;
        }
        let val: SavedPredictions =
            read_json(&out.join(&d.trial.run_dir).join(VAL_PREDICTIONS_FILE))?;
        // Only predictions of the same validation rows can be averaged.
        if val.y_true == best_val.y_true && val.proba.len() == sets[0].len() {
            members.push(d);
            sets.push(val.proba);
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
    Ok(Some(Ensemble {
        members: members.iter().map(|d| d.trial.index).collect(),
        models: members
            .iter()
            .map(|d| format!("{}/{MODEL_DIR}", d.trial.run_dir))
            .collect(),
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

/// The mean negative log-likelihood of the true classes among `metrics` (NaN if undefined).
pub(crate) fn log_loss(metrics: &Metrics) -> f64 {
    metrics.get("log_loss").unwrap_or(f64::NAN)
}

/// The bootstrap standard error of `select` on `val` under `rule`: the spread of the score
/// over [`BOOTSTRAP`] resamples of the validation rows (seeded).
fn standard_error(
    select: &SelectMetric,
    val: &SavedPredictions,
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
    fn fine_tune(out: &Path, index: usize, proba: &[[f64; 2]], targets: &[usize]) -> Done {
        let run_dir = format!("trials/{index:02}-t");
        let model = out.join(&run_dir).join(MODEL_DIR);
        std::fs::create_dir_all(&model).unwrap();
        let info = ClassifierInfo {
            labels: vec![Label::Int(0), Label::Int(1)],
            pooling: Pooling::Mean,
            max_len: 8,
            head_hidden: None,
            text_col: "text".into(),
            label_col: "label".into(),
            class_counts: vec![50, 50],
            decision: None,
        };
        std::fs::write(model.join(INFO_FILE), serde_json::to_string(&info).unwrap()).unwrap();
        let predictions =
            serde_json::json!({ "labels": [0, 1], "y_true": targets, "proba": proba });
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
                train_layers: TrainLayers::Top(2),
                ..TrainConfig::default()
            },
            diagnosis: None,
        }
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
        let make = |n: usize| SavedPredictions {
            y_true: (0..n).map(|i| i % 2).collect(),
            proba: (0..n)
                .map(|i| {
                    let right = (i / 2) % 5 != 0;
                    let p = if (i % 2 == 1) == right { 0.7 } else { 0.3 };
                    vec![1.0 - p, p]
                })
                .collect(),
        };
        let small = standard_error(&select, &make(100), None, &labels, 1);
        let large = standard_error(&select, &make(1600), None, &labels, 1);
        // Binomial: sqrt(0.8 · 0.2 / n) ≈ 0.040 and 0.010; the bootstrap is near both.
        assert!((0.025..0.055).contains(&small), "{small}");
        assert!((0.006..0.014).contains(&large), "{large}");
        assert_eq!(small, standard_error(&select, &make(100), None, &labels, 1));
    }
}
