//! A data file's bytes and their UTF-8, with the place of the first bad byte.

use std::path::Path;

use crate::error::{Error, Result};

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
