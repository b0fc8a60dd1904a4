//! `gallery.json`, an image run's pictures for the report: a few training pictures per
//! class, the most confidently wrong validation and test pictures and, with augmentation,
//! a few training pictures as training saw them, as small PNGs inlined
//! as `data:` URIs — so the report shows them without reading any file outside the run
//! folder.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Position, Result};
use crate::io::write_atomic;

use super::records::FORMAT;

fn first_format() -> u32 {
    1
}

/// One picture with what is known of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tile {
    /// Its true class.
    pub label: String,
    /// The class the model chose, for a wrong prediction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted: Option<String>,
    /// The model's probability of `predicted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Where it came from: its path relative to the data file (shown, never opened).
    pub source: String,
    /// The picture: a `data:image/png;base64,…` URI.
    pub image: String,
}

/// The record in `gallery.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gallery {
    /// The record's format.
    #[serde(default = "first_format")]
    pub format: u32,
    /// Training pictures, a few per class.
    pub examples: Vec<Tile>,
    /// The most confidently wrong pictures of each scored set (`validation`, `test`).
    pub wrong: Vec<(String, Vec<Tile>)>,
    /// With augmentation on: a few training pictures as they are, then as training saw
    /// them in a few draws (absent in runs without augmentation and before it existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub augmented: Vec<Tile>,
}

impl Gallery {
    /// Writes the record at `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string(self).map_err(Error::serialization)? + "\n";
        write_atomic(path, text.as_bytes())
    }

    /// Reads the record at `path`; every picture must be an inline PNG (nothing the report
    /// shows is fetched).
    pub fn read(path: &Path) -> Result<Gallery> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Error::input(
                Position::line(path, e.line() as u64),
                format!("not a gallery goodfit wrote: {e}"),
            )
        })?;
        Gallery::from_value(value).map_err(|why| Error::input(Position::file(path), why))
    }

    /// The record in `value`, checked: a known format, every picture an inline PNG.
    pub fn from_value(value: serde_json::Value) -> std::result::Result<Gallery, String> {
        let record: Gallery = serde_json::from_value(value).map_err(|e| e.to_string())?;
        if record.format > FORMAT {
            return Err(format!(
                "format {} is newer than this goodfit reads ({FORMAT}): update goodfit",
                record.format
            ));
        }
        let tiles = record
            .examples
            .iter()
            .chain(record.wrong.iter().flat_map(|(_, t)| t))
            .chain(&record.augmented);
        if let Some(tile) = tiles
            .into_iter()
            .find(|t| !t.image.starts_with("data:image/png;base64,"))
        {
            return Err(format!(
                "the picture of {} is not an inline PNG",
                tile.source
            ));
        }
        Ok(record)
    }
}
