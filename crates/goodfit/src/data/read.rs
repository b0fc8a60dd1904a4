//! Reading a data file: its format from the extension, then the reader for it.

use std::path::Path;

use crate::error::{Error, Position, Result};

use super::table::Table;

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
