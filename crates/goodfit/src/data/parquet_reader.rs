//! Apache Parquet files, read row by row with the `parquet` crate's record API.

use std::fs::File;
use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::error::{Error, Position, Result};

use super::table::{Cell, Row, Table};

/// Reads a Parquet file's top-level columns. Rows are numbered from 1.
pub fn read_parquet(path: &Path) -> Result<Table> {
    let file = File::open(path).map_err(|source| Error::io(path, source))?;
    let not_parquet = |error: parquet::errors::ParquetError| {
        Error::input(
            Position::file(path),
            format!("cannot read Parquet: {error}"),
        )
    };
    let reader = SerializedFileReader::new(file).map_err(not_parquet)?;
    let columns: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema()
        .get_fields()
        .iter()
        .map(|field| field.name().to_string())
        .collect();
    let mut rows = Vec::new();
    for (index, row) in reader.into_iter().enumerate() {
        let line = index as u64 + 1;
        let row = row.map_err(|error| {
            let pos = Position {
                is_row: true,
                ..Position::line(path, line)
            };
            Error::input(pos, format!("cannot read Parquet: {error}"))
        })?;
        let mut cells = vec![Cell::Missing; columns.len()];
        for (name, field) in row.get_column_iter() {
            if let Some(slot) = columns.iter().position(|column| column == name) {
                cells[slot] = parquet_cell(field);
            }
        }
        rows.push(Row { line, cells });
    }
    Ok(Table {
        path: path.to_path_buf(),
        columns,
        rows,
        rows_are_numbered: true,
    })
}

/// One Parquet value as a cell; nested, decimal and temporal values are kept as
/// the text the `parquet` crate writes for them.
fn parquet_cell(field: &Field) -> Cell {
    match field {
        Field::Null => Cell::Null,
        Field::Bool(b) => Cell::Bool(*b),
        Field::Byte(v) => Cell::Int(i64::from(*v)),
        Field::Short(v) => Cell::Int(i64::from(*v)),
        Field::Int(v) => Cell::Int(i64::from(*v)),
        Field::Long(v) => Cell::Int(*v),
        Field::UByte(v) => Cell::Int(i64::from(*v)),
        Field::UShort(v) => Cell::Int(i64::from(*v)),
        Field::UInt(v) => Cell::Int(i64::from(*v)),
        Field::ULong(v) => match i64::try_from(*v) {
            Ok(int) => Cell::Int(int),
            Err(_) => Cell::Float(*v as f64),
        },
        Field::Float16(v) => Cell::Float(f64::from(*v)),
        Field::Float(v) => Cell::Float(f64::from(*v)),
        Field::Double(v) => Cell::Float(*v),
        Field::Str(text) => Cell::Text(text.clone()),
        Field::Bytes(bytes) => Cell::Text(String::from_utf8_lossy(bytes.data()).into_owned()),
        other => Cell::Text(other.to_string()),
    }
}
