//! A labelled dataset: the table's columns given meaning — texts or numeric features, and labels.

use std::path::{Path, PathBuf};

use crate::error::{Error, Position, Result};

use super::label::{Label, LabelMap};
use super::read::{read_table, ReadOptions};
use super::table::Table;

/// Which columns hold what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The text column (`text` by default).
    pub text: String,
    /// The label column (`label` by default).
    pub label: String,
    /// Numeric feature columns for tabular data. `None` means: the text column if the file
    /// has one, else every numeric column but the label.
    pub features: Option<Vec<String>>,
}

impl Default for ColumnSpec {
    fn default() -> Self {
        ColumnSpec {
            text: "text".into(),
            label: "label".into(),
            features: None,
        }
    }
}

/// What a model reads for each example.
#[derive(Debug, Clone, PartialEq)]
pub enum Inputs {
    /// One text per example (missing or null texts are empty strings).
    Text(Vec<String>),
    /// A row of numbers per example.
    Features {
        /// The feature columns, in order.
        names: Vec<String>,
        /// One row per example, one value per feature.
        rows: Vec<Vec<f64>>,
    },
}

/// Labelled examples read from one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The file they came from.
    pub path: PathBuf,
    /// Texts or features.
    pub inputs: Inputs,
    /// One label per example.
    pub labels: Vec<Label>,
    /// The line (or Parquet row) each example came from.
    pub lines: Vec<u64>,
    /// Whether `lines` are Parquet row numbers.
    pub rows_are_numbered: bool,
}

impl Dataset {
    /// Reads a labelled dataset from a CSV, JSONL or Parquet file; a folder is read as an
    /// image folder (one sub-folder per class, see [`super::image_folder`]), its paths in
    /// the text column.
    pub fn read(path: &Path, columns: &ColumnSpec, options: &ReadOptions) -> Result<Dataset> {
        let table = if path.is_dir() {
            super::image_folder::image_folder_table(path, &columns.text, &columns.label)?
        } else {
            read_table(path, options)?
        };
        Dataset::from_table(&table, columns)
    }

    /// Gives a table's columns their meaning. Every row needs a label.
    pub fn from_table(table: &Table, columns: &ColumnSpec) -> Result<Dataset> {
        let label_col = table.column(&columns.label)?;
        let labels = table.labels(label_col)?;
        let inputs = match (&columns.features, table.find_column(&columns.text)) {
            (Some(names), _) => features(table, names)?,
            (None, Some(text_col)) => Inputs::Text(
                table
                    .rows
                    .iter()
                    .map(|row| row.cells[text_col].as_text().unwrap_or_default())
                    .collect(),
            ),
            (None, None) => {
                let numeric = numeric_columns(table, label_col);
                if numeric.is_empty() {
                    // Neither text nor numbers: say which text column was expected.
                    table.column(&columns.text)?;
                }
                features(table, &numeric)?
            }
        };
        Ok(Dataset {
            path: table.path.clone(),
            inputs,
            labels,
            lines: table.rows.iter().map(|row| row.line).collect(),
            rows_are_numbered: table.rows_are_numbered,
        })
    }

    /// The number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The sorted classes of this dataset's labels.
    pub fn label_map(&self) -> LabelMap {
        LabelMap::from_labels(&self.labels)
    }

    /// The position of example `index`, for messages.
    pub fn position(&self, index: usize) -> Position {
        Position {
            is_row: self.rows_are_numbered,
            ..Position::line(&self.path, self.lines[index])
        }
    }

    /// Each example's class index in `map`; a label that `map` lacks is an error naming its line.
    pub fn class_indices(&self, map: &LabelMap) -> Result<Vec<usize>> {
        self.labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                map.index_of(label).ok_or_else(|| {
                    Error::input(
                        self.position(i),
                        format!(
                            "label '{label}' is not among the known labels ({})",
                            join_labels(map.labels())
                        ),
                    )
                })
            })
            .collect()
    }
}

/// Labels written as a comma-separated list.
pub fn join_labels(labels: &[Label]) -> String {
    labels
        .iter()
        .map(Label::as_text)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The named columns as finite numbers.
fn features(table: &Table, names: &[String]) -> Result<Inputs> {
    let indices = names
        .iter()
        .map(|name| table.column(name))
        .collect::<Result<Vec<_>>>()?;
    let mut rows = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        let mut values = Vec::with_capacity(indices.len());
        for &col in &indices {
            let value = row.cells[col]
                .as_f64()
                .map_err(|why| Error::input(table.cell_position(row, col), why))?;
            if !value.is_finite() {
                return Err(Error::input(
                    table.cell_position(row, col),
                    format!("{value} is not a finite number"),
                ));
            }
            values.push(value);
        }
        rows.push(values);
    }
    Ok(Inputs::Features {
        names: names.to_vec(),
        rows,
    })
}

/// Columns, other than the label, whose every value is a number.
fn numeric_columns(table: &Table, label_col: usize) -> Vec<String> {
    (0..table.columns.len())
        .filter(|&col| col != label_col)
        .filter(|&col| table.rows.iter().all(|row| row.cells[col].as_f64().is_ok()))
        .map(|col| table.columns[col].clone())
        .collect()
}
