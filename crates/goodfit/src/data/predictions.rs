//! A predictions file for `goodfit evaluate`: true labels, predicted labels and, optionally,
//! one probability column per class.

use serde::Serialize;

use crate::error::{Error, Position, Result};

use super::dataset::join_labels;
use super::label::{Label, LabelMap};
use super::table::{Row, Table};

/// A probability row whose sum differs from 1 by more than this draws a warning.
pub const ROW_SUM_TOLERANCE: f64 = 1e-3;

/// Which columns of a predictions file hold what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredictionColumns {
    /// The true label (`label`).
    pub label: String,
    /// The predicted label (`pred`); when absent, the argmax of the probabilities.
    pub pred: String,
    /// The prefix of per-class probability columns (`prob_`): `prob_<label>`.
    pub prob_prefix: String,
}

impl Default for PredictionColumns {
    fn default() -> Self {
        PredictionColumns {
            label: "label".into(),
            pred: "pred".into(),
            prob_prefix: "prob_".into(),
        }
    }
}

/// True and predicted classes, as indices into `labels`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Predictions {
    /// The classes, in order.
    pub labels: LabelMap,
    /// The true class of each row.
    pub y_true: Vec<usize>,
    /// The predicted class of each row.
    pub y_pred: Vec<usize>,
    /// Per-class probabilities of each row, in class order, when the file has them.
    pub proba: Option<Vec<Vec<f64>>>,
    /// Things that are suspicious but not wrong, in plain words.
    pub warnings: Vec<String>,
}

/// Reads predictions from `table`.
///
/// The known classes are `declared` when given, else the labels of the probability columns,
/// else every label that occurs as a true or predicted label (as scikit-learn's
/// `unique_labels` does). A true or predicted label outside the known classes is an error.
pub fn read_predictions(
    table: &Table,
    columns: &PredictionColumns,
    declared: Option<Vec<Label>>,
) -> Result<Predictions> {
    let label_col = table.column(&columns.label)?;
    let prob_cols: Vec<(Label, usize)> = table
        .columns
        .iter()
        .enumerate()
        .filter_map(|(i, name)| {
            let rest = name.strip_prefix(columns.prob_prefix.as_str())?;
            (!rest.is_empty()).then(|| (Label::parse(rest), i))
        })
        .collect();
    let pred_col = table.find_column(&columns.pred);
    if pred_col.is_none() && prob_cols.is_empty() {
        return Err(Error::input(
            crate::Position::file(&table.path),
            format!(
                "no column '{}' and no '{}<label>' probability columns; one or the other is needed (the columns are: {})",
                columns.pred,
                columns.prob_prefix,
                table.columns.join(", ")
            ),
        ));
    }

    let cell_label = |row: &Row, col: usize| {
        row.cells[col]
            .as_label()
            .ok_or_else(|| Error::input(table.cell_position(row, col), "the label is empty"))
    };
    let true_labels = table
        .rows
        .iter()
        .map(|row| cell_label(row, label_col))
        .collect::<Result<Vec<_>>>()?;
    let pred_labels = match pred_col {
        Some(col) => Some(
            table
                .rows
                .iter()
                .map(|row| cell_label(row, col))
                .collect::<Result<Vec<_>>>()?,
        ),
        None => None,
    };

    let labels = match (declared, prob_cols.is_empty()) {
        (Some(declared), _) => LabelMap::from_ordered(declared),
        (None, false) => LabelMap::from_labels(prob_cols.iter().map(|(label, _)| label)),
        (None, true) => {
            LabelMap::from_labels(true_labels.iter().chain(pred_labels.iter().flatten()))
        }
    };

    // Probability columns, reordered to class order; each class needs exactly one.
    let mut proba_cols = vec![None; labels.len()];
    for (label, col) in &prob_cols {
        match labels.index_of(label) {
            Some(class) => proba_cols[class] = Some(*col),
            None => {
                return Err(Error::input(
                    Position::file(&table.path).with_field(&table.columns[*col]),
                    format!(
                        "probability column for label '{label}', which is not among the known labels ({})",
                        join_labels(labels.labels())
                    ),
                ))
            }
        }
    }
    let proba_cols: Option<Vec<usize>> = if prob_cols.is_empty() {
        None
    } else {
        let missing: Vec<Label> = labels
            .labels()
            .iter()
            .zip(&proba_cols)
            .filter(|(_, col)| col.is_none())
            .map(|(label, _)| label.clone())
            .collect();
        if !missing.is_empty() {
            return Err(Error::input(
                Position::file(&table.path),
                format!(
                    "no probability column for label(s) {}: expected one '{}<label>' column per class",
                    join_labels(&missing),
                    columns.prob_prefix
                ),
            ));
        }
        Some(proba_cols.into_iter().flatten().collect())
    };

    let known = |label: &Label, row: &Row, col: usize| {
        labels.index_of(label).ok_or_else(|| {
            Error::input(
                table.cell_position(row, col),
                format!(
                    "label '{label}' is not among the known labels ({})",
                    join_labels(labels.labels())
                ),
            )
        })
    };
    let mut y_true = Vec::with_capacity(table.rows.len());
    for (row, label) in table.rows.iter().zip(&true_labels) {
        y_true.push(known(label, row, label_col)?);
    }

    let mut warnings = Vec::new();
    let proba = match &proba_cols {
        Some(cols) => Some(read_probabilities(table, cols, &mut warnings)?),
        None => None,
    };
    let y_pred = match (&pred_labels, pred_col, &proba) {
        (Some(preds), Some(col), _) => table
            .rows
            .iter()
            .zip(preds)
            .map(|(row, label)| known(label, row, col))
            .collect::<Result<Vec<_>>>()?,
        (_, _, Some(proba)) => proba.iter().map(|row| argmax(row)).collect(),
        _ => unreachable!("checked above: a pred column or probability columns exist"),
    };

    Ok(Predictions {
        labels,
        y_true,
        y_pred,
        proba,
        warnings,
    })
}

/// The probability columns as numbers in [0, 1], warning when rows do not sum to 1.
fn read_probabilities(
    table: &Table,
    cols: &[usize],
    warnings: &mut Vec<String>,
) -> Result<Vec<Vec<f64>>> {
    let mut rows = Vec::with_capacity(table.rows.len());
    let mut off_sum = Vec::new();
    for row in &table.rows {
        let mut values = Vec::with_capacity(cols.len());
        for &col in cols {
            let pos = || table.cell_position(row, col);
            let value = row.cells[col]
                .as_f64()
                .map_err(|why| Error::input(pos(), why))?;
            if !value.is_finite() {
                return Err(Error::input(
                    pos(),
                    format!("probability {value} is not a finite number"),
                ));
            }
            if !(0.0..=1.0).contains(&value) {
                return Err(Error::input(
                    pos(),
                    format!("probability {value} is outside [0, 1]"),
                ));
            }
            values.push(value);
        }
        let sum: f64 = values.iter().sum();
        if (sum - 1.0).abs() > ROW_SUM_TOLERANCE {
            off_sum.push((row.line, sum));
        }
        rows.push(values);
    }
    if let Some((line, sum)) = off_sum.first() {
        warnings.push(format!(
            "{}: {} rows have probabilities that do not sum to 1 (first at {} {line}: sum {sum:.6}); they are used as given",
            table.path.display(),
            off_sum.len(),
            if table.rows_are_numbered { "row" } else { "line" },
        ));
    }
    Ok(rows)
}

/// The index of the largest value; the first one on ties, as `numpy.argmax`.
pub fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &value) in values.iter().enumerate() {
        if value > values[best] {
            best = i;
        }
    }
    best
}
