//! A raw table read from a file, before any column is given a meaning.
//!
//! CSV, JSONL and Parquet all become a [`Table`]: named columns and rows of [`Cell`]s,
//! each row remembering the line (or Parquet row) it came from so that later errors can
//! point at it.

use std::path::{Path, PathBuf};

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

/// How to read a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The CSV field delimiter; `None` picks `,` (or a tab for `.tsv` files).
    pub delimiter: Option<u8>,
    /// Replace bytes that are not UTF-8 with U+FFFD instead of failing.
    pub lossy: bool,
}

/// The file formats goodfit reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma- (or otherwise) separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The format named by a file's extension.
    pub fn from_path(path: &Path) -> Result<Format> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match extension.as_str() {
            "csv" | "tsv" | "txt" => Ok(Format::Csv),
            "jsonl" | "ndjson" | "json" => Ok(Format::Jsonl),
            "parquet" | "pq" => Ok(Format::Parquet),
            _ => Err(Error::input(
                Position::file(path),
                "unknown file type: use .csv, .tsv, .jsonl (.ndjson) or .parquet",
            )),
        }
    }
}

/// Reads a CSV, JSONL or Parquet file (chosen by extension) into a [`Table`].
///
/// An empty file, or one with a header and no rows, is an error.
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<Table> {
    let format = Format::from_path(path)?;
    let table = match format {
        Format::Csv => {
            let tab = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
            let delimiter = options.delimiter.unwrap_or(if tab { b'\t' } else { b',' });
            super::csv_reader::read_csv(path, delimiter, options.lossy)?
        }
        Format::Jsonl => super::jsonl_reader::read_jsonl(path, options.lossy)?,
        Format::Parquet => super::parquet_reader::read_parquet(path)?,
    };
    if table.rows.is_empty() {
        let message = if table.columns.is_empty() {
            "the file is empty"
        } else {
            "the file has no data rows"
        };
        return Err(Error::input(Position::file(path), message));
    }
    Ok(table)
}

/// Reads a whole file into memory, naming the file in the error.
pub(crate) fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::io(path, source))
}

/// Decodes UTF-8, or says where the first bad byte is (as a 1-based character column).
pub(crate) fn decode_utf8(bytes: &[u8], lossy: bool) -> Result<String, (u64, u8)> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_string()),
        Err(_) if lossy => Ok(String::from_utf8_lossy(bytes).into_owned()),
        Err(error) => {
            let good = &bytes[..error.valid_up_to()];
            let column = String::from_utf8_lossy(good).chars().count() as u64 + 1;
            Err((column, bytes[error.valid_up_to()]))
        }
    }
}

/// The message for a byte that is not UTF-8.
pub(crate) fn utf8_message(byte: u8) -> String {
    format!("byte 0x{byte:02X} is not valid UTF-8; convert the file to UTF-8 or pass --lossy to replace such bytes")
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
