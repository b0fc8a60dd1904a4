//! The validation score a search ranks its trials by (`--select-metric`).

use std::cmp::Ordering;

use crate::decision::Objective;
use crate::error::{Error, Result};
use crate::metrics::{higher_is_better, Metrics, SCALAR_METRICS};

/// A validation score and which way is better.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectMetric {
    /// `loss` (the validation loss) or a metric key of [`SCALAR_METRICS`].
    pub name: String,
    /// Whether a larger value is better.
    pub higher_is_better: bool,
}

impl SelectMetric {
    /// Reads `loss`, a metric key such as `f1_macro`, or either with `val_` in front (as
    /// `--monitor` writes them).
    pub fn parse(text: &str) -> Result<SelectMetric> {
        let name = text.trim();
        let name = name.strip_prefix("val_").unwrap_or(name);
        if name == "loss" {
            return Ok(SelectMetric {
                name: name.into(),
                higher_is_better: false,
            });
        }
        match higher_is_better(name) {
            Some(higher_is_better) => Ok(SelectMetric {
                name: name.into(),
                higher_is_better,
            }),
            None => Err(Error::Invalid(format!(
                "--select-metric '{text}' is not loss or a metric; metrics: {}",
                SCALAR_METRICS.join(", ")
            ))),
        }
    }

    /// The score of a run with validation loss `loss` and metrics `metrics` (`None` when
    /// undefined).
    pub fn value(&self, loss: f64, metrics: &Metrics) -> Option<f64> {
        if self.name == "loss" {
            Some(loss)
        } else {
            metrics.get(&self.name)
        }
        .filter(|v| v.is_finite())
    }

    /// How `a` compares with `b`: `Greater` when `a` is better; an undefined score is worse
    /// than any defined one.
    pub fn compare(&self, a: Option<f64>, b: Option<f64>) -> Ordering {
        match (a, b) {
            (Some(a), Some(b)) if self.higher_is_better => a.total_cmp(&b),
            (Some(a), Some(b)) => b.total_cmp(&a),
            (a, b) => a.is_some().cmp(&b.is_some()),
        }
    }

    /// The decision-rule objective that serves this score best: itself when the rule can be
    /// tuned for it, else macro-F1 (which weighs every class alike, the point of tuning).
    pub fn objective(&self) -> Objective {
        match self.name.as_str() {
            "balanced_accuracy" => Objective::BalancedAccuracy,
            _ => Objective::F1Macro,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_directions_and_order() {
        let f1 = SelectMetric::parse("val_f1_macro").unwrap();
        assert_eq!(f1.name, "f1_macro");
        assert!(f1.higher_is_better);
        assert_eq!(f1.compare(Some(0.8), Some(0.7)), Ordering::Greater);
        assert_eq!(f1.compare(None, Some(0.0)), Ordering::Less);
        assert_eq!(f1.objective(), Objective::F1Macro);
        let loss = SelectMetric::parse("loss").unwrap();
        assert!(!loss.higher_is_better);
        assert_eq!(loss.compare(Some(0.3), Some(0.4)), Ordering::Greater);
        assert!(!SelectMetric::parse("ece").unwrap().higher_is_better);
        assert_eq!(
            SelectMetric::parse("balanced_accuracy")
                .unwrap()
                .objective(),
            Objective::BalancedAccuracy
        );
        let error = SelectMetric::parse("f1").unwrap_err().to_string();
        assert!(
            error.contains("--select-metric 'f1'") && error.contains("f1_macro"),
            "{error}"
        );
    }
}
