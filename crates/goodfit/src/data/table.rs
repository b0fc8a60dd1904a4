//! A raw table read from a file, before any column is given a meaning.
//!
//! CSV, JSONL and Parquet all become a [`Table`]: named columns and rows of [`Cell`]s,
//! each row remembering the line (or Parquet row) it came from so that later errors can
//! point at it.

use std::path::PathBuf;

use crate::error::{Error, Position, Result};

use super::label::Label;

/// One value of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// The row has no such field (JSONL rows may differ in their keys).
    Missing,
    /// An explicit null (JSON `null`, Parquet null).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text; every CSV field is text.
    Text(String),
    /// A JSON object or array, as its JSON text: text where text is wanted, never a label
    /// or a number.
    Nested(String),
}

impl Cell {
    /// The cell as a number: integers, floats, and text that parses as a float.
    ///
    /// Returns a description of the value when it is not a number.
    pub fn as_f64(&self) -> Result<f64, String> {
        match self {
            Cell::Int(value) => Ok(*value as f64),
            Cell::Float(value) => Ok(*value),
            Cell::Text(text) => text
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("'{}' is not a number", shorten(text, 40))),
            Cell::Bool(value) => Err(format!("{value} is not a number")),
            Cell::Nested(json) => Err(format!(
                "{} is a JSON object or array, not a number",
                shorten(json, 40)
            )),
            Cell::Null => Err("the value is null".into()),
            Cell::Missing => Err("the field is missing from this row".into()),
        }
    }

    /// The cell as a class label; `None` for missing, null or empty values.
    pub fn as_label(&self) -> Option<Label> {
        match self {
            Cell::Int(value) => Some(Label::Int(*value)),
            Cell::Float(value) if value.fract() == 0.0 && value.abs() < 9.0e15 => {
                Some(Label::Int(*value as i64))
            }
            Cell::Float(value) => Some(Label::Text(value.to_string())),
            Cell::Bool(value) => Some(Label::Text(value.to_string())),
            Cell::Text(text) if text.trim().is_empty() => None,
            Cell::Text(text) => Some(Label::parse(text)),
            Cell::Null | Cell::Missing | Cell::Nested(_) => None,
        }
    }

    /// The cell as text: numbers and booleans are written out, null and missing are `None`.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Cell::Text(text) | Cell::Nested(text) => Some(text.clone()),
            Cell::Int(value) => Some(value.to_string()),
            Cell::Float(value) => Some(value.to_string()),
            Cell::Bool(value) => Some(value.to_string()),
            Cell::Null | Cell::Missing => None,
        }
    }
}

/// One row and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based line (CSV: the line the record starts on; JSONL: its line) or Parquet row.
    pub line: u64,
    /// One cell per table column.
    pub cells: Vec<Cell>,
}

/// A table read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The file it was read from.
    pub path: PathBuf,
    /// Column names in file order.
    pub columns: Vec<String>,
    /// The rows, in file order.
    pub rows: Vec<Row>,
    /// Whether row positions are Parquet row numbers rather than text lines.
    pub rows_are_numbered: bool,
}

impl Table {
    /// The index of column `name`, or an error that lists the columns there are.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.find_column(name).ok_or_else(|| Error::MissingColumn {
            path: self.path.clone(),
            column: name.to_string(),
            available: self.columns.clone(),
        })
    }

    /// The index of column `name`, if there is one.
    pub fn find_column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column == name)
    }

    /// The position of `row`, for error messages.
    pub fn position(&self, row: &Row) -> Position {
        Position {
            is_row: self.rows_are_numbered,
            ..Position::line(&self.path, row.line)
        }
    }

    /// The position of the cell of `row` in column `column`, for error messages.
    pub fn cell_position(&self, row: &Row, column: usize) -> Position {
        self.position(row).with_field(&self.columns[column])
    }

    /// Every row's label in column `column`; an empty label is an error at its cell.
    pub fn labels(&self, column: usize) -> Result<Vec<Label>> {
        self.rows
            .iter()
            .map(|row| {
                let cell = &row.cells[column];
                if let Cell::Nested(json) = cell {
                    return Err(Error::input(
                        self.cell_position(row, column),
                        format!(
                            "the label {} is a JSON object or array; a label must be a string or a number",
                            shorten(json, 40)
                        ),
                    ));
                }
                cell.as_label().ok_or_else(|| {
                    Error::input(
                        self.cell_position(row, column),
                        "the label is empty; every row needs a label",
                    )
                })
            })
            .collect()
    }
}

/// `text` cut to at most `max` characters, with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}
