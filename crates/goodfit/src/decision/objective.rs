//! What a decision rule is tuned for.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::data::LabelMap;
use crate::error::{Error, Result};
use crate::metrics::ConfusionMatrix;

use super::cost::read_cost_matrix;

/// The quantity `--tune-threshold` maximises on the validation set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Objective {
    /// F1 of the positive (rarer) class for two classes; macro-F1 for more.
    F1,
    /// Macro-averaged F1.
    F1Macro,
    /// Mean recall over classes.
    BalancedAccuracy,
    /// Youden's J, sensitivity + specificity − 1 (for more classes, its mean over classes
    /// taken one-versus-rest).
    Youden,
    /// The mean misclassification cost from a cost-matrix file (minimised).
    Cost(PathBuf),
}

impl FromStr for Objective {
    type Err = Error;
    fn from_str(text: &str) -> Result<Objective> {
        match text {
            "f1" => Ok(Objective::F1),
            "f1_macro" => Ok(Objective::F1Macro),
            "balanced_accuracy" => Ok(Objective::BalancedAccuracy),
            "youden" => Ok(Objective::Youden),
            other => match other.strip_prefix("cost:") {
                Some(path) if !path.is_empty() => Ok(Objective::Cost(PathBuf::from(path))),
                _ => Err(Error::Invalid(format!(
                    "unknown threshold objective '{other}'; choose f1, f1_macro, balanced_accuracy, youden or cost:FILE"
                ))),
            },
        }
    }
}

impl TryFrom<String> for Objective {
    type Error = Error;
    fn try_from(text: String) -> Result<Objective> {
        text.parse()
    }
}

impl From<Objective> for String {
    fn from(objective: Objective) -> String {
        objective.to_string()
    }
}

impl fmt::Display for Objective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Objective::F1 => f.write_str("f1"),
            Objective::F1Macro => f.write_str("f1_macro"),
            Objective::BalancedAccuracy => f.write_str("balanced_accuracy"),
            Objective::Youden => f.write_str("youden"),
            Objective::Cost(path) => write!(f, "cost:{}", path.display()),
        }
    }
}

impl Objective {
    /// The objective made ready to score confusion matrices of `labels`; `positive` is the
    /// class binary F1 is about. Reads the cost file, if any.
    pub fn scoring(&self, labels: &LabelMap, positive: usize) -> Result<Scoring> {
        let costs = match self {
            Objective::Cost(path) => Some(read_cost_matrix(Path::new(path), labels)?),
            _ => None,
        };
        Ok(Scoring {
            objective: self.clone(),
            positive,
            costs,
        })
    }
}

/// An [`Objective`] ready to score confusion matrices.
#[derive(Debug, Clone)]
pub struct Scoring {
    objective: Objective,
    positive: usize,
    costs: Option<Vec<Vec<f64>>>,
}

impl Scoring {
    /// Whether bigger values are better (all but cost).
    pub fn higher_is_better(&self) -> bool {
        !matches!(self.objective, Objective::Cost(_))
    }

    /// The objective's value for predictions `predicted` of examples of classes `targets`,
    /// among `k` classes.
    pub fn value_of(&self, targets: &[usize], predicted: &[usize], k: usize) -> Result<f64> {
        let counts = ConfusionMatrix::from_indices(targets, predicted, k)?.into_counts();
        Ok(self.value(&counts))
    }

    /// The objective's value for `counts[true][predicted]`.
    pub fn value(&self, counts: &[Vec<u64>]) -> f64 {
        let k = counts.len();
        let total: u64 = counts.iter().flatten().sum();
        let support = |c: usize| counts[c].iter().sum::<u64>();
        let predicted = |c: usize| counts.iter().map(|row| row[c]).sum::<u64>();
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let f1 = |c: usize| ratio(2 * counts[c][c], support(c) + predicted(c));
        let recall = |c: usize| ratio(counts[c][c], support(c));
        let specificity = |c: usize| {
            ratio(
                total - support(c) - predicted(c) + counts[c][c],
                total - support(c),
            )
        };
        let mean = |values: Vec<f64>| values.iter().sum::<f64>() / values.len().max(1) as f64;
        let present: Vec<usize> = (0..k).filter(|&c| support(c) > 0).collect();
        match &self.objective {
            Objective::F1 if k == 2 => f1(self.positive),
            Objective::F1 | Objective::F1Macro => mean((0..k).map(f1).collect()),
            Objective::BalancedAccuracy => mean(present.iter().map(|&c| recall(c)).collect()),
            Objective::Youden if k == 2 => recall(0) + recall(1) - 1.0,
            Objective::Youden => mean(
                present
                    .iter()
                    .map(|&c| recall(c) + specificity(c) - 1.0)
                    .collect(),
            ),
            Objective::Cost(_) => {
                let costs = self.costs.as_ref().expect("cost matrix read by scoring()");
                let spent: f64 = (0..k)
                    .flat_map(|t| (0..k).map(move |p| (t, p)))
                    .map(|(t, p)| counts[t][p] as f64 * costs[t][p])
                    .sum();
                spent / total.max(1) as f64
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Label;

    fn labels(k: usize) -> LabelMap {
        LabelMap::from_ordered((0..k as i64).map(Label::Int).collect())
    }

    #[test]
    fn values_equal_scikit_learn_on_a_confusion_matrix() {
        // y_true = [0]*8 + [1]*4, y_pred = [0]*6 + [1]*2 + [0]*1 + [1]*3
        // f1_score(y_true, y_pred) = 0.6667, f1_score(..., average="macro") = 0.7333,
        // balanced_accuracy_score = 0.75, Youden = recall1 + recall0 − 1 = 0.5
        let counts = vec![vec![6, 2], vec![1, 3]];
        let score = |o: Objective| o.scoring(&labels(2), 1).unwrap().value(&counts);
        assert!((score(Objective::F1) - 2.0 / 3.0).abs() < 1e-12);
        assert!((score(Objective::F1Macro) - 11.0 / 15.0).abs() < 1e-12);
        assert!((score(Objective::BalancedAccuracy) - 0.75).abs() < 1e-12);
        assert!((score(Objective::Youden) - 0.5).abs() < 1e-12);
        // Three classes: Youden's J one-versus-rest, averaged.
        let counts = vec![vec![5, 0, 0], vec![0, 3, 1], vec![0, 2, 2]];
        let j = Objective::Youden
            .scoring(&labels(3), 0)
            .unwrap()
            .value(&counts);
        // class 0: 1 + 1 − 1 = 1; class 1: 3/4 + 7/9 − 1; class 2: 1/2 + 8/9 − 1
        let expected = (1.0 + (0.75 + 7.0 / 9.0 - 1.0) + (0.5 + 8.0 / 9.0 - 1.0)) / 3.0;
        assert!((j - expected).abs() < 1e-12, "{j}");
    }

    #[test]
    fn parses_and_prints_every_objective() {
        for text in [
            "f1",
            "f1_macro",
            "balanced_accuracy",
            "youden",
            "cost:c.csv",
        ] {
            assert_eq!(text.parse::<Objective>().unwrap().to_string(), text);
        }
        assert!("accuracy".parse::<Objective>().is_err());
        assert!("cost:".parse::<Objective>().is_err());
    }
}
