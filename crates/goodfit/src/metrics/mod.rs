//! Scoring predictions exactly as scikit-learn 1.9 and imbalanced-learn 0.14 do.
//!
//! [`compute`] turns class-index targets, predictions and (optionally) predicted
//! probabilities into a [`Metrics`] record; [`text_report()`] prints it. The arithmetic lives
//! in one small module per family:
//! - [`confusion`]: the confusion matrix every label metric starts from;
//! - [`classification`]: accuracy, precision/recall/F1, balanced accuracy, MCC, kappa, G-mean;
//! - [`ranking`]: ROC-AUC and average precision;
//! - [`probability`]: log-loss, Brier score, expected calibration error;
//! - [`text_report`](mod@text_report): the human-readable report.
//!
//! Where scikit-learn gives NaN ("undefined") a metric is `None`, serialised as JSON `null`,
//! never as a number; divisions by zero in precision/recall/F1 give 0 (`zero_division=0`).

pub mod classification;
pub mod confusion;
pub mod probability;
pub mod ranking;
pub mod text_report;
mod validate;

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};

use crate::data::{Label, LabelMap};
use crate::error::Result;

pub use classification::ClassScores;
pub use confusion::ConfusionMatrix;
pub use text_report::text_report;

/// The names of the scalar metrics, in the order [`Metrics`] serialises them; each is
/// accepted by [`Metrics::get`] and [`higher_is_better`].
pub const SCALAR_METRICS: [&str; 19] = [
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "precision_weighted",
    "recall_weighted",
    "f1_weighted",
    "precision_micro",
    "recall_micro",
    "f1_micro",
    "mcc",
    "cohen_kappa",
    "geometric_mean",
    "roc_auc",
    "average_precision",
    "log_loss",
    "brier",
    "ece",
];

/// Every metric of one set of predictions.
///
/// `None` means undefined (scikit-learn would give NaN, or the metric needs probabilities
/// that were not given); it is written as JSON `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// The classes, in the order of the confusion matrix and `per_class`.
    pub labels: Vec<Label>,
    /// `accuracy_score`.
    pub accuracy: f64,
    /// `balanced_accuracy_score`: mean recall over classes present in `y_true`.
    pub balanced_accuracy: Option<f64>,
    /// Unweighted mean precision over all classes (`average='macro'`).
    pub precision_macro: f64,
    /// Unweighted mean recall over all classes.
    pub recall_macro: f64,
    /// Unweighted mean F1 over all classes.
    pub f1_macro: f64,
    /// Support-weighted mean precision (`average='weighted'`).
    pub precision_weighted: f64,
    /// Support-weighted mean recall.
    pub recall_weighted: f64,
    /// Support-weighted mean F1.
    pub f1_weighted: f64,
    /// Precision from counts summed over classes (`average='micro'`).
    pub precision_micro: f64,
    /// Recall from summed counts.
    pub recall_micro: f64,
    /// F1 from summed counts.
    pub f1_micro: f64,
    /// `matthews_corrcoef` (0.0 when its denominator is 0, as scikit-learn).
    pub mcc: Option<f64>,
    /// `cohen_kappa_score`, unweighted; `None` when undefined.
    pub cohen_kappa: Option<f64>,
    /// imbalanced-learn's multiclass `geometric_mean_score` of per-class recalls.
    pub geometric_mean: Option<f64>,
    /// ROC-AUC (binary: second label positive; multiclass: one-vs-rest macro).
    pub roc_auc: Option<f64>,
    /// Step-wise average precision (binary, or one-vs-rest macro).
    pub average_precision: Option<f64>,
    /// `log_loss` with scikit-learn's clipping.
    pub log_loss: Option<f64>,
    /// Binary Brier score; `None` for multiclass.
    pub brier: Option<f64>,
    /// Expected calibration error, 15 equal-width bins.
    pub ece: Option<f64>,
    /// Rows = true class, columns = predicted class, in label order.
    pub confusion_matrix: Vec<Vec<u64>>,
    /// Precision, recall, F1 and support of each class, in label order.
    pub per_class: Vec<ClassScores>,
}

/// Scores predictions against the truth.
///
/// `y_true` and `y_pred` are class indices `0..labels.len()` into `labels`; `proba`, when
/// given, holds one row per example and one column per class (in label order) of
/// probabilities in `[0, 1]`. Every class in `labels` counts, present or not, as with
/// scikit-learn's `labels=` argument. Without `proba`, `roc_auc`, `average_precision`,
/// `log_loss`, `brier` and `ece` are `None`.
///
/// Fails with [`Error::Invalid`](crate::Error::Invalid) on empty input, unequal lengths, a
/// class index out of range, or a `proba` of the wrong shape or with values outside `[0, 1]`.
pub fn compute(
    y_true: &[usize],
    y_pred: &[usize],
    proba: Option<&[Vec<f64>]>,
    labels: &LabelMap,
) -> Result<Metrics> {
    let n_classes = labels.len();
    validate::check_targets(y_true, y_pred, n_classes)?;
    if let Some(proba) = proba {
        validate::check_proba(proba, y_true.len(), n_classes)?;
    }

    let cm = ConfusionMatrix::from_indices(y_true, y_pred, n_classes)?;
    let per_class = classification::per_class(&cm);
    let macro_avg = classification::macro_average(&per_class);
    let weighted = classification::weighted_average(&per_class);
    let micro = classification::micro_average(&cm);

    let (roc_auc, average_precision, log_loss, brier, ece) = match proba {
        Some(proba) => (
            ranking::roc_auc(y_true, proba, n_classes)?,
            ranking::average_precision(y_true, proba, n_classes)?,
            probability::log_loss(y_true, proba, n_classes)?,
            probability::brier(y_true, proba, n_classes)?,
            Some(probability::ece(y_true, proba, n_classes)?),
        ),
        None => (None, None, None, None, None),
    };

    Ok(Metrics {
        labels: labels.labels().to_vec(),
        accuracy: classification::accuracy(&cm),
        balanced_accuracy: classification::balanced_accuracy(&cm),
        precision_macro: macro_avg.precision,
        recall_macro: macro_avg.recall,
        f1_macro: macro_avg.f1,
        precision_weighted: weighted.precision,
        recall_weighted: weighted.recall,
        f1_weighted: weighted.f1,
        precision_micro: micro.precision,
        recall_micro: micro.recall,
        f1_micro: micro.f1,
        mcc: Some(classification::mcc(&cm)),
        cohen_kappa: classification::cohen_kappa(&cm),
        geometric_mean: Some(classification::geometric_mean(&cm)),
        roc_auc,
        average_precision,
        log_loss,
        brier,
        ece,
        confusion_matrix: cm.into_counts(),
        per_class,
    })
}

impl Metrics {
    /// A scalar metric by its key name (one of [`SCALAR_METRICS`]), for early stopping or
    /// model selection on any metric; `None` if the name is unknown or the value undefined.
    pub fn get(&self, name: &str) -> Option<f64> {
        match name {
            "accuracy" => Some(self.accuracy),
            "balanced_accuracy" => self.balanced_accuracy,
            "precision_macro" => Some(self.precision_macro),
            "recall_macro" => Some(self.recall_macro),
            "f1_macro" => Some(self.f1_macro),
            "precision_weighted" => Some(self.precision_weighted),
            "recall_weighted" => Some(self.recall_weighted),
            "f1_weighted" => Some(self.f1_weighted),
            "precision_micro" => Some(self.precision_micro),
            "recall_micro" => Some(self.recall_micro),
            "f1_micro" => Some(self.f1_micro),
            "mcc" => self.mcc,
            "cohen_kappa" => self.cohen_kappa,
            "geometric_mean" => self.geometric_mean,
            "roc_auc" => self.roc_auc,
            "average_precision" => self.average_precision,
            "log_loss" => self.log_loss,
            "brier" => self.brier,
            "ece" => self.ece,
            _ => None,
        }
    }
}

/// Whether a larger value of the named metric is better: `Some(false)` for the losses
/// (`log_loss`, `brier`, `ece`), `Some(true)` for the other [`SCALAR_METRICS`], `None` for
/// an unknown name.
pub fn higher_is_better(name: &str) -> Option<bool> {
    match name {
        "log_loss" | "brier" | "ece" => Some(false),
        _ if SCALAR_METRICS.contains(&name) => Some(true),
        _ => None,
    }
}

/// `per_class` as a JSON object keyed by each label's text, in label order.
struct PerClass<'a> {
    labels: &'a [Label],
    scores: &'a [ClassScores],
}

impl Serialize for PerClass<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.scores.len()))?;
        for (label, scores) in self.labels.iter().zip(self.scores) {
            map.serialize_entry(&label.to_string(), scores)?;
        }
        map.end()
    }
}

/// Written by hand so that the keys come in the documented order — the scalar metrics
/// ([`SCALAR_METRICS`]), then `labels`, `confusion_matrix` and `per_class` — and undefined
/// values as `null`.
impl Serialize for Metrics {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Metrics", SCALAR_METRICS.len() + 3)?;
        s.serialize_field("accuracy", &self.accuracy)?;
        s.serialize_field("balanced_accuracy", &self.balanced_accuracy)?;
        s.serialize_field("precision_macro", &self.precision_macro)?;
        s.serialize_field("recall_macro", &self.recall_macro)?;
        s.serialize_field("f1_macro", &self.f1_macro)?;
        s.serialize_field("precision_weighted", &self.precision_weighted)?;
        s.serialize_field("recall_weighted", &self.recall_weighted)?;
        s.serialize_field("f1_weighted", &self.f1_weighted)?;
        s.serialize_field("precision_micro", &self.precision_micro)?;
        s.serialize_field("recall_micro", &self.recall_micro)?;
        s.serialize_field("f1_micro", &self.f1_micro)?;
        s.serialize_field("mcc", &self.mcc)?;
        s.serialize_field("cohen_kappa", &self.cohen_kappa)?;
        s.serialize_field("geometric_mean", &self.geometric_mean)?;
        s.serialize_field("roc_auc", &self.roc_auc)?;
        s.serialize_field("average_precision", &self.average_precision)?;
        s.serialize_field("log_loss", &self.log_loss)?;
        s.serialize_field("brier", &self.brier)?;
        s.serialize_field("ece", &self.ece)?;
        s.serialize_field("labels", &self.labels)?;
        s.serialize_field("confusion_matrix", &self.confusion_matrix)?;
        s.serialize_field(
            "per_class",
            &PerClass {
                labels: &self.labels,
                scores: &self.per_class,
            },
        )?;
        s.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> LabelMap {
        LabelMap::from_ordered(names.iter().map(|n| Label::parse(n)).collect())
    }

    #[test]
    fn json_has_the_documented_keys_in_order() {
        let m = compute(&[0, 1, 1], &[0, 1, 0], None, &labels(&["neg", "pos"])).unwrap();
        let value = serde_json::to_value(&m).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected: Vec<&str> = SCALAR_METRICS.to_vec();
        expected.extend(["labels", "confusion_matrix", "per_class"]);
        assert_eq!(keys, expected);
        assert!(value["roc_auc"].is_null());
        assert!(value["ece"].is_null());
        assert_eq!(value["labels"], serde_json::json!(["neg", "pos"]));
        assert_eq!(
            value["confusion_matrix"],
            serde_json::json!([[1, 0], [1, 1]])
        );
        let per_class = value["per_class"].as_object().unwrap();
        assert_eq!(
            per_class.keys().collect::<Vec<_>>(),
            [&"neg".to_string(), &"pos".to_string()]
        );
        assert_eq!(
            per_class["pos"],
            serde_json::json!({"precision": 1.0, "recall": 0.5, "f1": 2.0 / 3.0, "support": 2})
        );
    }

    #[test]
    fn undefined_values_are_null_and_integer_labels_are_numbers() {
        let m = compute(&[1, 1], &[1, 1], None, &labels(&["0", "1"])).unwrap();
        assert_eq!(m.cohen_kappa, None);
        let value = serde_json::to_value(&m).unwrap();
        assert!(value["cohen_kappa"].is_null());
        assert_eq!(value["labels"], serde_json::json!([0, 1]));
        assert!(value["per_class"].as_object().unwrap().contains_key("0"));
    }

    #[test]
    fn get_and_higher_is_better_know_every_scalar() {
        let proba = vec![vec![0.8, 0.2], vec![0.3, 0.7], vec![0.6, 0.4]];
        let m = compute(&[0, 1, 1], &[0, 1, 0], Some(&proba), &labels(&["a", "b"])).unwrap();
        for name in SCALAR_METRICS {
            assert!(m.get(name).is_some(), "{name}");
            assert!(higher_is_better(name).is_some(), "{name}");
        }
        assert_eq!(m.get("accuracy"), Some(2.0 / 3.0));
        assert_eq!(m.get("nonsense"), None);
        assert_eq!(higher_is_better("log_loss"), Some(false));
        assert_eq!(higher_is_better("brier"), Some(false));
        assert_eq!(higher_is_better("ece"), Some(false));
        assert_eq!(higher_is_better("roc_auc"), Some(true));
        assert_eq!(higher_is_better("nonsense"), None);
    }

    #[test]
    fn probability_metrics_need_proba() {
        let m = compute(&[0, 1], &[0, 1], None, &labels(&["a", "b"])).unwrap();
        assert_eq!(
            (m.roc_auc, m.average_precision, m.log_loss, m.brier, m.ece),
            (None, None, None, None, None)
        );
    }

    #[test]
    fn bad_input_is_an_error_with_a_clear_message() {
        let map = labels(&["a", "b"]);
        let message = |r: Result<Metrics>| match r {
            Err(crate::Error::Invalid(m)) => m,
            other => panic!("expected Error::Invalid, got {other:?}"),
        };
        assert!(message(compute(&[], &[], None, &map)).contains("empty"));
        assert!(message(compute(&[0, 1], &[0], None, &map)).contains("same length"));
        assert!(message(compute(&[0, 2], &[0, 1], None, &map)).contains("y_true[1]"));
        assert!(message(compute(&[0, 1], &[0, 5], None, &map)).contains("y_pred[1]"));
        let narrow = vec![vec![1.0], vec![1.0]];
        assert!(message(compute(&[0, 1], &[0, 1], Some(&narrow), &map)).contains("columns"));
        let short = vec![vec![0.5, 0.5]];
        assert!(message(compute(&[0, 1], &[0, 1], Some(&short), &map)).contains("rows"));
        let negative = vec![vec![0.5, 0.5], vec![-0.5, 1.0]];
        assert!(message(compute(&[0, 1], &[0, 1], Some(&negative), &map)).contains("[0, 1]"));
        let empty_map = LabelMap::from_ordered(vec![]);
        assert!(compute(&[0], &[0], None, &empty_map).is_err());
    }

    #[test]
    fn a_single_class_does_not_panic() {
        let map = labels(&["only"]);
        let proba = vec![vec![1.0], vec![0.9]];
        let m = compute(&[0, 0], &[0, 0], Some(&proba), &map).unwrap();
        assert_eq!(m.accuracy, 1.0);
        assert_eq!(m.roc_auc, None);
        assert_eq!(m.log_loss, None);
        assert_eq!(m.brier, None);
        assert!(m.ece.is_some());
        assert!(!text_report(&m).is_empty());
    }
}
