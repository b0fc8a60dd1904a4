//! Flags shared by several commands.

use std::io::Write;

use anyhow::{bail, Context, Result};
use clap::Args;
use goodfit::data::{Label, ReadOptions};

/// How input files are read.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// CSV field delimiter (one character; `tab` or `\t` for tabs). Default: `,`, or tab for .tsv.
    #[arg(long, value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
    /// Replace bytes that are not UTF-8 with U+FFFD instead of failing.
    #[arg(long)]
    pub lossy: bool,
}

impl ReadArgs {
    /// The library's read options.
    pub fn options(&self) -> ReadOptions {
        ReadOptions {
            delimiter: self.delimiter,
            lossy: self.lossy,
        }
    }
}

fn parse_delimiter(text: &str) -> Result<u8> {
    match text {
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        _ if text.len() == 1 && text.is_ascii() => Ok(text.as_bytes()[0]),
        _ => bail!("the delimiter must be one ASCII character (or `tab`), not {text:?}"),
    }
}

/// A comma-separated list of labels, as given on the command line.
pub fn parse_labels(text: &str) -> Vec<Label> {
    text.split(',').map(|l| Label::parse(l.trim())).collect()
}

/// Prints `text` to standard output in one write, so that nothing half-written is left on
/// failure and a closed pipe is not a panic.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

/// A value as pretty JSON followed by a newline.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}
