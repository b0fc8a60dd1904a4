//! Writing files so that a reader never sees half of one, and no planted link is followed:
//! each write goes to a temporary file created exclusively (`O_EXCL`, an unpredictable
//! name, by the `tempfile` crate) in the target's folder, which is then renamed over the
//! target (atomic on one file system; a link at the target is replaced, not followed).
//! Also the one rule for paths read from a run folder's own files: they stay inside it.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Position, Result};

/// The folder a write to `path` creates its temporary file in (created if needed).
fn parent_of(path: &Path) -> Result<PathBuf> {
    let parent = match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => parent.to_path_buf(),
        None => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|source| Error::io(&parent, source))?;
    Ok(parent)
}

/// A new, empty temporary file next to `path`, named `.NAME.XXXXXX.tmp` (hidden and
/// unpredictable), created exclusively.
fn temporary_file(path: &Path) -> Result<tempfile::NamedTempFile> {
    let parent = parent_of(path)?;
    tempfile::Builder::new()
        .prefix(&hidden_prefix(path))
        .suffix(".tmp")
        .tempfile_in(&parent)
        .map_err(|source| Error::io(&parent, source))
}

/// A new, empty temporary folder next to `dir`, named as [`temporary_file`] names files.
fn temporary_dir(dir: &Path) -> Result<tempfile::TempDir> {
    let parent = parent_of(dir)?;
    tempfile::Builder::new()
        .prefix(&hidden_prefix(dir))
        .suffix(".tmp")
        .tempdir_in(&parent)
        .map_err(|source| Error::io(&parent, source))
}

fn hidden_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.")
}

/// Writes `bytes` to `path` atomically, creating its folder if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = temporary_file(path)?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_data())
        .map_err(|source| Error::io(path, source))?;
    persist(tmp, path)
}

/// Lets `write` fill a temporary file (created empty and exclusively; `write` may replace
/// its contents by path), then renames it to `path`. On failure the temporary file is
/// removed and `path` is untouched.
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = temporary_file(path)?;
    write(tmp.path())?;
    persist(tmp, path)
}

/// Renames the finished temporary file over `path`, readable as a plain file would be.
fn persist(tmp: tempfile::NamedTempFile, path: &Path) -> Result<()> {
    readable(tmp.path())?;
    tmp.persist(path)
        .map_err(|error| Error::io(path, error.error))?;
    Ok(())
}

/// Temporary files and folders are created private (0600 / 0700); what is kept gets the
/// permissions a plain `File::create` or `create_dir` would give under a usual umask.
fn readable(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if path.is_dir() { 0o755 } else { 0o644 };
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|source| Error::io(path, source))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Replaces the folder `dir` with one that `fill` builds in a temporary folder: until
/// `fill` has succeeded, `dir` is not touched, and on failure nothing is left behind.
pub fn replace_dir_with(dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp = temporary_dir(dir)?;
    fill(tmp.path())?;
    readable(tmp.path())?;
    remove_entry(dir)?;
    let kept = tmp.keep();
    std::fs::rename(&kept, dir).map_err(|source| {
        let _ = std::fs::remove_dir_all(&kept);
        Error::io(dir, source)
    })
}

/// Removes whatever is at `path` — a file, a folder with everything in it, or a link
/// (the link itself, never what it points to); nothing there is fine.
pub fn remove_entry(path: &Path) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let removed = if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    removed.map_err(|source| Error::io(path, source))
}

/// Refuses an `output` that is the `input` file itself (by its real path, so a link or
/// `./` does not hide it): goodfit never writes over the data it reads.
pub fn refuse_overwriting_input(input: &Path, output: &Path) -> Result<()> {
    let real = |p: &Path| p.canonicalize().ok();
    match (real(input), real(output)) {
        (Some(a), Some(b)) if a == b => Err(Error::input(
            Position::file(output),
            format!(
                "--output is the input file {}; goodfit never writes over its input: choose another name",
                input.display()
            ),
        )),
        _ => Ok(()),
    }
}

/// The path `relative`, read from the run folder's own file `file`, inside the run folder
/// `root`: refused when it is absolute, climbs out with `..`, or resolves (through links)
/// outside `root`. `field` names what `file` called it.
pub fn inside_run(root: &Path, relative: &Path, file: &Path, field: &str) -> Result<PathBuf> {
    let refuse = |why: &str| {
        Error::input(
            Position::file(file).with_field(field),
            format!(
                "'{}' {why}: paths in a run folder's files must stay inside {}",
                relative.display(),
                root.display()
            ),
        )
    };
    if relative.is_absolute()
        || relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(refuse("is absolute or leaves the folder"));
    }
    let joined = root.join(relative);
    let real_root = root.canonicalize().map_err(|e| Error::io(root, e))?;
    let real = joined.canonicalize().map_err(|e| Error::io(&joined, e))?;
    if !real.starts_with(&real_root) {
        return Err(refuse("leads through a link outside the folder"));
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

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
        assert_eq!(entries(dir.path()), ["a.json"]);

        let model = dir.path().join("model");
        assert!(replace_dir_with(&model, |_| Err(Error::Invalid("no".into()))).is_err());
        assert_eq!(entries(dir.path()), ["a.json"]);
        replace_dir_with(&model, |tmp| write_atomic(&tmp.join("x"), b"1")).unwrap();
        assert!(model.join("x").is_file());
        replace_dir_with(&model, |tmp| write_atomic(&tmp.join("y"), b"2")).unwrap();
        assert_eq!(entries(&model), ["y"]);
    }

    #[cfg(unix)]
    #[test]
    fn planted_links_are_never_followed() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, b"precious").unwrap();
        // The names the old `.tmp` scheme wrote through, and the target itself.
        let target = dir.path().join("out.csv");
        symlink(&victim, dir.path().join("out.csv.tmp")).unwrap();
        write_atomic(&target, b"a,b\n").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        symlink(&victim, dir.path().join("link.csv")).unwrap();
        write_atomic(&dir.path().join("link.csv"), b"x").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
        assert!(!std::fs::symlink_metadata(dir.path().join("link.csv"))
            .unwrap()
            .file_type()
            .is_symlink());
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);

        // A folder replaced where a link to another folder stood: the link goes, not the
        // folder it pointed to.
        let other = dir.path().join("other");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("keep"), b"k").unwrap();
        symlink(&other, dir.path().join("model")).unwrap();
        replace_dir_with(&dir.path().join("model"), |tmp| {
            write_atomic(&tmp.join("x"), b"1")
        })
        .unwrap();
        assert!(other.join("keep").is_file());
        assert!(dir.path().join("model/x").is_file());
    }

    #[test]
    fn the_input_is_never_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("data.csv");
        std::fs::write(&input, "text,label\n").unwrap();
        let same = dir.path().join(".").join("data.csv");
        let error = refuse_overwriting_input(&input, &same)
            .unwrap_err()
            .to_string();
        assert!(error.contains("never writes over its input"), "{error}");
        refuse_overwriting_input(&input, &dir.path().join("out.csv")).unwrap();
    }

    #[test]
    fn run_folder_paths_stay_inside_it() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("run");
        std::fs::create_dir_all(run.join("trials/3/model")).unwrap();
        std::fs::create_dir_all(dir.path().join("elsewhere/model")).unwrap();
        let file = run.join("ensemble.json");
        let ok = inside_run(&run, Path::new("trials/3/model"), &file, "members").unwrap();
        assert_eq!(ok, run.join("trials/3/model"));
        for bad in ["../elsewhere/model", "/etc", "trials/../../elsewhere/model"] {
            let error = inside_run(&run, Path::new(bad), &file, "members")
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("ensemble.json") && error.contains("members") && error.contains(bad),
                "{error}"
            );
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("elsewhere"), run.join("escape")).unwrap();
            let error = inside_run(&run, Path::new("escape/model"), &file, "members")
                .unwrap_err()
                .to_string();
            assert!(error.contains("link outside"), "{error}");
        }
    }
}
