//! Writing files so that a reader never sees half of one: write a temporary file next to
//! the target, then rename it over the target (atomic on one file system).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The temporary sibling of `path` that a write goes to first.
pub fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes `bytes` to `path` atomically, creating its folder if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |tmp| {
        std::fs::write(tmp, bytes).map_err(|source| Error::io(tmp, source))
    })
}

/// Lets `write` fill a temporary file, then renames it to `path`. On failure the temporary
/// file is removed and `path` is untouched.
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| Error::io(parent, source))?;
    }
    let tmp = temporary_path(path);
    if let Err(error) = write(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(error);
    }
    std::fs::rename(&tmp, path).map_err(|source| Error::io(path, source))
}

/// Replaces the folder `dir` with one that `fill` builds in a temporary folder: until
/// `fill` has succeeded, `dir` is not touched, and on failure nothing is left behind.
pub fn replace_dir_with(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = temporary_path(dir);
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|source| Error::io(&tmp, source))?;
    if let Err(error) = fill(&tmp) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(error);
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|source| Error::io(dir, source))?;
    }
    std::fs::rename(&tmp, dir).map_err(|source| Error::io(dir, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_writes_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("a.json");
        write_atomic(&target, b"one").unwrap();
        let failed = write_atomic_with(&target, |tmp| {
            std::fs::write(tmp, b"half").unwrap();
            Err(Error::Invalid("interrupted".into()))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&target).unwrap(), b"one");
        assert!(!temporary_path(&target).exists());

        let model = dir.path().join("model");
        assert!(replace_dir_with(&model, |_| Err(Error::Invalid("no".into()))).is_err());
        assert!(!model.exists() && !temporary_path(&model).exists());
        replace_dir_with(&model, |tmp| write_atomic(&tmp.join("x"), b"1")).unwrap();
        assert!(model.join("x").is_file());
    }
}
