//! CSV files: a header row, RFC 4180 quoting, any one-byte delimiter.

use std::path::Path;

use crate::error::{Error, Position, Result};

use super::table::{decode_utf8, read_bytes, utf8_message, Cell, Row, Table};

/// Reads a CSV file whose first record is the header.
///
/// Every field becomes [`Cell::Text`]; a record with a different number of fields from the
/// header is an error naming its line.
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
            continue;
        }
        if fields.len() == 1 && fields[0].is_empty() && columns.len() > 1 {
            continue; // a blank line
        }
        if fields.len() != columns.len() {
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
