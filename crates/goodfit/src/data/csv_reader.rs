//! CSV files: a header row, RFC 4180 quoting, any one-byte delimiter.

use std::path::Path;

use crate::error::{Error, Position, Result};

use super::bytes::{decode_utf8, read_bytes, utf8_message};
use super::table::{Cell, Row, Table};

/// The first column name the header repeats: its two 1-based positions and the name.
fn duplicate_column(columns: &[String]) -> Option<(usize, usize, &str)> {
    columns.iter().enumerate().find_map(|(second, name)| {
        columns[..second]
            .iter()
            .position(|other| other == name)
            .map(|first| (first + 1, second + 1, name.as_str()))
    })
}

/// Reads a CSV file whose first record is the header.
///
/// Every field becomes [`Cell::Text`]; a record with a different number of fields from the
/// header is an error naming its line (and an unclosed quote, when that is the cause), as is
/// a header naming one column twice.
pub fn read_csv(path: &Path, delimiter: u8, lossy: bool) -> Result<Table> {
    let bytes = read_bytes(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.as_slice());

    let mut columns: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let more = reader.read_byte_record(&mut record).map_err(|error| {
            let line = error.position().map(|p| p.line()).unwrap_or(0);
            Error::input(
                Position::line(path, line.max(1)),
                format!("cannot read CSV: {error}"),
            )
        })?;
        if !more {
            break;
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let mut fields = Vec::with_capacity(record.len());
        for (index, field) in record.iter().enumerate() {
            let text = decode_utf8(field, lossy).map_err(|(_, byte)| {
                let name = columns
                    .get(index)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", index + 1));
                Error::input(
                    Position::line(path, line).with_field(&name),
                    utf8_message(byte),
                )
            })?;
            fields.push(text);
        }
        if columns.is_empty() {
            if let Some(first) = fields.first_mut() {
                // A byte-order mark is not part of the first column's name.
                *first = first.trim_start_matches('\u{feff}').to_string();
            }
            columns = fields;
            if let Some((first, second, name)) = duplicate_column(&columns) {
                return Err(Error::input(
                    Position::line(path, line.max(1)).with_field(name),
                    format!(
                        "the header names column '{name}' twice (columns {first} and {second}): rename one"
                    ),
                ));
            }
            continue;
        }
        if fields.len() == 1 && fields[0].is_empty() && columns.len() > 1 {
            continue; // a blank line
        }
        if fields.len() != columns.len() {
            // A quote left open swallows the line breaks after it, so a record with the
            // wrong field count and a line break inside a field is most likely one.
            if let Some((index, field)) = fields.iter().enumerate().find(|(_, f)| f.contains('\n'))
            {
                let name = columns
                    .get(index)
                    .cloned()
                    .unwrap_or_else(|| format!("#{}", index + 1));
                return Err(Error::input(
                    Position::line(path, line).with_field(&name),
                    format!(
                        "a quote opened on line {line} is not closed: the field runs over {} more lines, leaving the record {} field(s) where the header has {}",
                        field.matches('\n').count(),
                        fields.len(),
                        columns.len()
                    ),
                ));
            }
            return Err(Error::input(
                Position::line(path, line),
                format!(
                    "expected {} fields as in the header, found {}",
                    columns.len(),
                    fields.len()
                ),
            ));
        }
        rows.push(Row {
            line,
            cells: fields.into_iter().map(Cell::Text).collect(),
        });
    }
    Ok(Table {
        path: path.to_path_buf(),
        columns,
        rows,
        rows_are_numbered: false,
    })
}
