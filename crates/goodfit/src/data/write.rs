//! Writing a table as CSV or JSONL, atomically (temporary file, then rename).

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, Position, Result};
use crate::io::write_atomic;

use super::read::Format;
use super::table::Cell;

/// Writes `columns` and `rows` to `path`, as CSV or JSONL by its extension.
///
/// In JSONL, numbers stay numbers and missing cells are left out; in CSV, null and missing
/// cells are empty fields.
pub fn write_table(path: &Path, columns: &[String], rows: &[Vec<Cell>]) -> Result<()> {
    let bytes = match Format::from_path(path)? {
        Format::Csv => {
            let tab = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
            let mut writer = csv::WriterBuilder::new()
                .delimiter(if tab { b'\t' } else { b',' })
                .from_writer(Vec::new());
            let fail = |e: csv::Error| Error::Invalid(format!("cannot write CSV: {e}"));
            writer.write_record(columns).map_err(fail)?;
            for row in rows {
                writer
                    .write_record(row.iter().map(|c| c.as_text().unwrap_or_default()))
                    .map_err(fail)?;
            }
            writer
                .into_inner()
                .map_err(|e| Error::Invalid(format!("cannot write CSV: {e}")))?
        }
        Format::Jsonl => {
            let mut out = Vec::new();
            for row in rows {
                let mut object = Map::new();
                for (name, cell) in columns.iter().zip(row) {
                    let value = match cell {
                        Cell::Missing => continue,
                        Cell::Null => Value::Null,
                        Cell::Bool(b) => Value::Bool(*b),
                        Cell::Int(i) => Value::from(*i),
                        Cell::Float(x) => {
                            serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number)
                        }
                        Cell::Text(t) => Value::String(t.clone()),
                        // Written back as the JSON it was read from.
                        Cell::Nested(json) => {
                            serde_json::from_str(json).unwrap_or(Value::String(json.clone()))
                        }
                    };
                    object.insert(name.clone(), value);
                }
                serde_json::to_writer(&mut out, &object).map_err(Error::serialization)?;
                out.push(b'\n');
            }
            out
        }
        Format::Parquet => {
            return Err(Error::input(
                Position::file(path),
                "goodfit writes CSV or JSONL; name the output .csv or .jsonl",
            ))
        }
    };
    write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{read_table, ReadOptions};

    #[test]
    fn csv_and_jsonl_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let columns = vec!["text".to_string(), "n".to_string()];
        let rows = vec![
            vec![Cell::Text("a, \"quoted\"\nline".into()), Cell::Int(3)],
            vec![Cell::Null, Cell::Float(0.25)],
        ];
        for name in ["out.csv", "out.jsonl"] {
            let path = dir.path().join(name);
            write_table(&path, &columns, &rows).unwrap();
            let table = read_table(&path, &ReadOptions::default()).unwrap();
            assert_eq!(table.columns, columns);
            assert_eq!(
                table.rows[0].cells[0],
                Cell::Text("a, \"quoted\"\nline".into())
            );
            assert_eq!(table.rows[1].cells[1].as_f64().unwrap(), 0.25);
        }
        assert!(write_table(&dir.path().join("x.parquet"), &columns, &rows).is_err());
    }
}
