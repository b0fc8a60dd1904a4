//! JSON Lines files: one JSON object per line.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Position, Result};

use super::bytes::{decode_utf8, read_bytes, utf8_message};
use super::table::{Cell, Row, Table};

/// Reads a JSONL file. Columns are the keys in the order they are first seen; blank lines
/// are skipped; a row without some key has [`Cell::Missing`] there.
pub fn read_jsonl(path: &Path, lossy: bool) -> Result<Table> {
    let bytes = read_bytes(path)?;
    let mut columns: Vec<String> = Vec::new();
    let mut objects = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = decode_utf8(raw, lossy).map_err(|(column, byte)| {
            Error::input(
                Position::line(path, line).with_column(column),
                utf8_message(byte),
            )
        })?;
        let text = if index == 0 {
            text.trim_start_matches('\u{feff}').to_string()
        } else {
            text
        };
        if text.trim().is_empty() {
            continue;
        }
        let value: Line = serde_json::from_str(&text).map_err(|error| {
            Error::input(
                Position::line(path, line).with_column(error.column() as u64),
                format!("invalid JSON: {error}"),
            )
        })?;
        let Line::Object(pairs) = value else {
            return Err(Error::input(
                Position::line(path, line),
                "each line must be a JSON object like {\"text\": ..., \"label\": ...}",
            ));
        };
        let mut object = serde_json::Map::new();
        for (key, value) in pairs {
            if object.contains_key(&key) {
                return Err(Error::input(
                    Position::line(path, line).with_field(&key),
                    format!("the key '{key}' appears twice in this object"),
                ));
            }
            object.insert(key, value);
        }
        for key in object.keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
        objects.push((line, object));
    }
    let rows = objects
        .into_iter()
        .map(|(line, mut object)| Row {
            line,
            cells: columns
                .iter()
                .map(|name| object.remove(name).map_or(Cell::Missing, json_cell))
                .collect(),
        })
        .collect();
    Ok(Table {
        path: path.to_path_buf(),
        columns,
        rows,
        rows_are_numbered: false,
    })
}

/// One line of the file: an object with its keys in order, repeats kept so that they can
/// be refused (`serde_json::Value` keeps only the last of a repeated key), or anything else.
enum Line {
    Object(Vec<(String, Value)>),
    Other,
}

impl<'de> serde::Deserialize<'de> for Line {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Line;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Line, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, Value>()? {
                    pairs.push(pair);
                }
                Ok(Line::Object(pairs))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Line, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Line::Other)
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<Line, E> {
                Ok(Line::Other)
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<Line, E> {
                Ok(Line::Other)
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<Line, E> {
                Ok(Line::Other)
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<Line, E> {
                Ok(Line::Other)
            }
            fn visit_str<E>(self, _: &str) -> std::result::Result<Line, E> {
                Ok(Line::Other)
            }
            fn visit_unit<E>(self) -> std::result::Result<Line, E> {
                Ok(Line::Other)
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

/// One JSON value as a cell; arrays and objects are kept as their JSON text, marked nested.
fn json_cell(value: Value) -> Cell {
    match value {
        Value::Null => Cell::Null,
        Value::Bool(b) => Cell::Bool(b),
        Value::Number(number) => match number.as_i64() {
            Some(int) => Cell::Int(int),
            None => Cell::Float(number.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(text) => Cell::Text(text),
        nested => Cell::Nested(nested.to_string()),
    }
}
