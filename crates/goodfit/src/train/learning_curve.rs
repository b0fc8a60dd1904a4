//! Learning curves: train on growing stratified fractions of the training set and watch the
//! training and validation scores, to tell whether more data is likely to help.
//!
//! With `--train-layers 0` every fit runs on the frozen encoder's cached features, so the
//! whole curve costs one pass of the encoder over the data plus seconds per fraction.

use serde::Serialize;

use crate::data::stratified_split;
use crate::error::{Error, Result};

use super::config::TrainConfig;
use super::data::Examples;
use super::observer::Observer;
use super::trainer::{fit, Session};

/// One fraction's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    /// The share of the training set used.
    pub fraction: f64,
    /// Training rows used.
    pub rows: usize,
    /// The score on those rows at the kept epoch.
    pub train_score: Option<f64>,
    /// The validation score of the kept weights.
    pub val_score: Option<f64>,
    /// The validation loss of the kept weights.
    pub val_loss: f64,
    /// Seconds the fit took.
    pub seconds: f64,
}

/// A learning curve and what it says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearningCurve {
    /// The score plotted: the monitored metric, or macro-F1 when the loss is monitored.
    pub metric: String,
    /// One point per fraction, smallest first.
    pub points: Vec<CurvePoint>,
    /// Validation score gained per 10% more of the training set, over the last step.
    pub final_slope: Option<f64>,
    /// Train − validation gap at the largest fraction minus the gap at the smallest.
    pub gap_trend: Option<f64>,
    /// Whether more data of the same kind is likely to help.
    pub more_data_helps: bool,
    /// The conclusion in plain words.
    pub conclusion: String,
}

/// Trains on each of `fractions` of the training set (stratified, seeded, nested draws of
/// the same seed) and validates on the full validation set.
pub fn learning_curve(
    config: &TrainConfig,
    fractions: &[f64],
    observer: &dyn Observer,
) -> Result<LearningCurve> {
    let checked = config.check()?;
    let mut fractions = fractions.to_vec();
    fractions.sort_by(f64::total_cmp);
    fractions.dedup();
    if fractions.is_empty() || fractions.iter().any(|f| !(*f > 0.0 && *f <= 1.0)) {
        return Err(Error::Invalid(
            "--fractions must be numbers in (0, 1], e.g. 0.1,0.25,0.5,1".into(),
        ));
    }
    if config.eda_copies > 0 {
        return Err(Error::Invalid(
            "--eda-copies cannot be combined with a learning curve: its fractions would mix augmented copies with the rows they copy".into(),
        ));
    }
    let session = Session::open(&checked, observer)?;
    let metric = match config.monitor.strip_prefix("val_") {
        Some("loss") | None => "f1_macro".to_string(),
        Some(m) => m.to_string(),
    };
    let names: Vec<String> = session.data.labels.names();
    let train = &session.data.train;
    let mut points = Vec::new();
    for &fraction in &fractions {
        let rows: Vec<usize> = if fraction >= 1.0 {
            (0..train.len()).collect()
        } else {
            stratified_split(&train.targets, &names, fraction, config.seed)?.validation
        };
        observer.message(&format!(
            "learning curve: {:.0}% of the training set ({} rows)",
            fraction * 100.0,
            rows.len()
        ));
        let subset = Examples {
            encoded: rows.iter().map(|&r| train.encoded[r].clone()).collect(),
            targets: rows.iter().map(|&r| train.targets[r]).collect(),
        };
        let cached = match &session.cache {
            Some(cache) => Some(cache.train.select(&rows)?),
            None => None,
        };
        let fitted = fit(
            &session,
            &subset,
            cached.as_ref(),
            session.heldout(),
            None,
            None,
            observer,
        )?;
        let kept = fitted
            .state
            .early_stopping
            .best_epoch
            .unwrap_or(fitted.state.epochs_done)
            .max(1)
            - 1;
        let train_score = fitted
            .state
            .history
            .get(kept)
            .and_then(|r| r.get(&format!("train_{metric}")));
        points.push(CurvePoint {
            fraction,
            rows: rows.len(),
            train_score,
            val_score: fitted.val.metrics.get(&metric),
            val_loss: fitted.val.loss,
            seconds: fitted.state.seconds,
        });
    }
    Ok(conclude(metric, points))
}

/// Reads the curve: the slope of the validation score over the last step, and the trend
/// of the train − validation gap.
pub fn conclude(metric: String, points: Vec<CurvePoint>) -> LearningCurve {
    let n = points.len();
    let final_slope = (n >= 2)
        .then(|| {
            let (a, b) = (&points[n - 2], &points[n - 1]);
            Some((b.val_score? - a.val_score?) / (b.fraction - a.fraction) * 0.1)
        })
        .flatten();
    let gap = |p: &CurvePoint| Some(p.train_score? - p.val_score?);
    let gap_trend = (n >= 2)
        .then(|| Some(gap(&points[n - 1])? - gap(&points[0])?))
        .flatten();
    let more_data_helps = final_slope.is_some_and(|s| s > 0.005);
    let conclusion = match (final_slope, gap_trend) {
        (Some(slope), Some(trend)) if more_data_helps => format!(
            "more data is likely to help: validation {metric} still rises {slope:.3} per 10% more training data at the end of the curve, and the train−validation gap changed by {trend:+.3}"
        ),
        (Some(slope), Some(trend)) => format!(
            "the validation curve has flattened ({slope:+.3} {metric} per 10% more data at the end): more data of the same kind is unlikely to help much; the train−validation gap changed by {trend:+.3}, so look at capacity or regularisation instead"
        ),
        _ => "too few points to read a trend: give at least two fractions".to_string(),
    };
    LearningCurve {
        metric,
        points,
        final_slope,
        gap_trend,
        more_data_helps,
        conclusion,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(fraction: f64, train: f64, val: f64) -> CurvePoint {
        CurvePoint {
            fraction,
            rows: 0,
            train_score: Some(train),
            val_score: Some(val),
            val_loss: 0.0,
            seconds: 0.0,
        }
    }

    #[test]
    fn a_rising_curve_says_more_data_helps_and_a_flat_one_does_not() {
        let rising = conclude(
            "f1_macro".into(),
            vec![
                point(0.25, 1.0, 0.6),
                point(0.5, 0.98, 0.7),
                point(1.0, 0.95, 0.8),
            ],
        );
        assert!(rising.more_data_helps);
        assert!((rising.final_slope.unwrap() - 0.02).abs() < 1e-12);
        assert!((rising.gap_trend.unwrap() - (0.15 - 0.4)).abs() < 1e-12);
        let flat = conclude(
            "f1_macro".into(),
            vec![point(0.5, 0.9, 0.8), point(1.0, 0.9, 0.801)],
        );
        assert!(!flat.more_data_helps);
        assert!(flat.conclusion.contains("flattened"));
    }
}
