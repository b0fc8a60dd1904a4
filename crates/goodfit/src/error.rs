//! The library's one error type.
//!
//! Every error that comes from a user's input names where it was found — the file,
//! and the line and field or column when there is one — so that the command-line
//! program can print it as a single line and exit with status 2.

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in an input file: the file, and optionally a line (1-based) and a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The file the input came from.
    pub file: PathBuf,
    /// 1-based line number (CSV, JSONL) or row number (Parquet, written `row N`).
    pub line: Option<u64>,
    /// 1-based column (character) within the line, when the parser knows it.
    pub column: Option<u64>,
    /// The field (column name) the problem is in.
    pub field: Option<String>,
    /// Whether `line` counts rows of a columnar file rather than text lines.
    pub is_row: bool,
}

impl Position {
    /// A position naming only the file.
    pub fn file(file: &Path) -> Self {
        Position {
            file: file.to_path_buf(),
            line: None,
            column: None,
            field: None,
            is_row: false,
        }
    }

    /// A position naming a file and a 1-based line.
    pub fn line(file: &Path, line: u64) -> Self {
        Position {
            line: Some(line),
            ..Position::file(file)
        }
    }

    /// The same position, with a field name added.
    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_string());
        self
    }

    /// The same position, with a 1-based column added.
    pub fn with_column(mut self, column: u64) -> Self {
        self.column = Some(column);
        self
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        match (self.line, self.is_row) {
            (Some(row), true) => write!(f, ": row {row}")?,
            (Some(line), false) => {
                write!(f, ":{line}")?;
                if let Some(column) = self.column {
                    write!(f, ":{column}")?;
                }
            }
            (None, _) => {}
        }
        if let Some(field) = &self.field {
            write!(f, ", field '{field}'")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in goodfit.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said. Not an error `source`: the message already
        /// holds it, and a chain printed with `{:#}` would say it twice.
        cause: std::io::Error,
    },
    /// An input file holds something goodfit cannot use.
    #[error("{pos}: {message}")]
    Input {
        /// Where it was found.
        pos: Position,
        /// What is wrong, in plain words.
        message: String,
    },
    /// A column that was asked for is not in the file.
    #[error("{}: no column '{column}' (the columns are: {})", path.display(), available.join(", "))]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The columns the file does have.
        available: Vec<String>,
    },
    /// A tensor computation failed (a bug or an exhausted resource, not bad input).
    #[error("tensor computation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// Training was asked to stop; the checkpoint of the last finished epoch is kept.
    #[error("interrupted after epoch {epochs_done}; continue with `goodfit train --resume {}`", out.display())]
    Interrupted {
        /// Epochs finished and checkpointed.
        epochs_done: usize,
        /// The run folder.
        out: PathBuf,
    },
    /// A setting or a combination of inputs that cannot work (not tied to one place in a file).
    #[error("{0}")]
    Invalid(String),
    /// Writing or reading one of goodfit's own records (JSON, TOML) failed: a bug or a run
    /// folder file edited by hand, not the user's input data.
    #[error("cannot serialise or read a record: {0}")]
    Serialization(String),
    /// Training diverged: the loss or the gradient norm stopped being finite. A finding about
    /// the settings (a search records it and goes on), not a fault of the inputs.
    #[error("{0}")]
    Diverged(String),
}

impl Error {
    /// An [`Error::Input`] at `pos`.
    pub fn input(pos: Position, message: impl Into<String>) -> Self {
        Error::Input {
            pos,
            message: message.into(),
        }
    }

    /// An [`Error::Serialization`] from serde's error.
    pub fn serialization(error: impl std::fmt::Display) -> Self {
        Error::Serialization(error.to_string())
    }

    /// An [`Error::Io`] for `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            cause: source,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
