//! A folder of labelled pictures in torchvision's `ImageFolder` layout — one sub-folder per
//! class, named by the class, holding that class's PNG and JPEG files — read as a table of
//! two columns: the picture's path relative to the folder, and its class.

use std::path::Path;

use crate::error::{Error, Position, Result};

use super::table::{Cell, Row, Table};

/// The picture files goodfit reads, by extension (case-insensitive).
const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// The table of `dir`'s pictures: column `input_col` holds each picture's path relative to
/// `dir` (`cat/001.png`), `label_col` its sub-folder's name. Rows are sorted by class, then
/// file name (as torchvision sorts them) and numbered from 1. Files of other kinds are
/// skipped; a class folder without pictures, or no class folder at all, is an error.
pub fn image_folder_table(dir: &Path, input_col: &str, label_col: &str) -> Result<Table> {
    let entries = |path: &Path| -> Result<Vec<std::path::PathBuf>> {
        let mut paths: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| Error::io(path, e))?
            .map(|entry| entry.map(|e| e.path()).map_err(|e| Error::io(path, e)))
            .collect::<Result<_>>()?;
        paths.sort();
        Ok(paths)
    };
    let mut rows = Vec::new();
    for class_dir in entries(dir)?.into_iter().filter(|p| p.is_dir()) {
        let class = class_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let pictures: Vec<_> = entries(&class_dir)?
            .into_iter()
            .filter(|p| is_picture(p))
            .collect();
        if pictures.is_empty() {
            return Err(Error::input(
                Position::file(&class_dir),
                "a class folder without PNG or JPEG pictures",
            ));
        }
        for picture in pictures {
            let name = picture
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            rows.push(Row {
                line: rows.len() as u64 + 1,
                cells: vec![
                    Cell::Text(format!("{class}/{name}")),
                    Cell::Text(class.clone()),
                ],
            });
        }
    }
    if rows.is_empty() {
        return Err(Error::input(
            Position::file(dir),
            "no class folders: an image folder holds one sub-folder of pictures per class",
        ));
    }
    Ok(Table {
        path: dir.to_path_buf(),
        columns: vec![input_col.to_string(), label_col.to_string()],
        rows,
        rows_are_numbered: true,
    })
}

/// The table of every picture under `dir` (sub-folders included, sorted by path), one
/// column `input_col` of paths relative to `dir`: unlabelled pictures to predict. No
/// picture at all is an error.
pub fn image_list_table(dir: &Path, input_col: &str) -> Result<Table> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).map_err(|e| Error::io(&folder, e))? {
            let path = entry.map_err(|e| Error::io(&folder, e))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if is_picture(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    if found.is_empty() {
        return Err(Error::input(
            Position::file(dir),
            "no PNG or JPEG pictures in it",
        ));
    }
    let rows = found
        .iter()
        .enumerate()
        .map(|(i, path)| {
            let relative = path.strip_prefix(dir).unwrap_or(path);
            Row {
                line: i as u64 + 1,
                cells: vec![Cell::Text(relative.to_string_lossy().into_owned())],
            }
        })
        .collect();
    Ok(Table {
        path: dir.to_path_buf(),
        columns: vec![input_col.to_string()],
        rows,
        rows_are_numbered: true,
    })
}

/// Whether `path` is a file with a picture's extension.
fn is_picture(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .is_some_and(|e| EXTENSIONS.contains(&e.to_string_lossy().to_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_sub_folders_and_other_files_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        for (class, file) in [
            ("dog", "b.png"),
            ("cat", "z.JPG"),
            ("cat", "a.png"),
            ("cat", "notes.txt"),
        ] {
            std::fs::create_dir_all(dir.path().join(class)).unwrap();
            std::fs::write(dir.path().join(class).join(file), b"x").unwrap();
        }
        let table = image_folder_table(dir.path(), "image", "label").unwrap();
        let cells: Vec<Vec<Cell>> = table.rows.iter().map(|r| r.cells.clone()).collect();
        let text = |s: &str| Cell::Text(s.into());
        assert_eq!(
            cells,
            [
                vec![text("cat/a.png"), text("cat")],
                vec![text("cat/z.JPG"), text("cat")],
                vec![text("dog/b.png"), text("dog")]
            ]
        );
        std::fs::create_dir_all(dir.path().join("empty")).unwrap();
        let error = image_folder_table(dir.path(), "image", "label")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("empty") && error.contains("without PNG"),
            "{error}"
        );
        let none = tempfile::tempdir().unwrap();
        let error = image_folder_table(none.path(), "image", "label")
            .unwrap_err()
            .to_string();
        assert!(error.contains("no class folders"), "{error}");
    }
}
