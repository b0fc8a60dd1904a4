//! The pictures an image run's report shows (`gallery.json`, see
//! [`crate::run_folder::gallery`]): the first few training pictures of each class, and the
//! validation and test pictures the model got wrong with the most confidence, a few per
//! true class.

use std::path::Path;

use crate::data::LabelMap;
use crate::error::Result;
use crate::model::image_transform::ImageTransform;
use crate::model::Example;
use crate::run_folder::gallery::{Gallery, Tile};
use crate::run_folder::records::FORMAT;

/// Training pictures shown per class.
const EXAMPLES_PER_CLASS: usize = 4;
/// Wrong pictures shown per true class, and in all, per set.
const WRONG_PER_CLASS: usize = 3;
const WRONG_IN_ALL: usize = 30;
/// Thumbnails' longer side, in pixels.
const THUMBNAIL: u32 = 64;

/// A set of pictures with their classes and, when scored, the model's probabilities.
pub(crate) struct Pictures<'a> {
    /// The examples (pictures have paths; others are skipped).
    pub examples: &'a [Example],
    /// Their classes.
    pub targets: &'a [usize],
    /// The model's class probabilities for each.
    pub proba: Option<&'a [Vec<f64>]>,
}

fn tile(path: &Path, label: String, wrong: Option<(String, f64)>) -> Result<Tile> {
    Ok(Tile {
        label,
        predicted: wrong.as_ref().map(|w| w.0.clone()),
        probability: wrong.map(|w| w.1),
        source: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        image: ImageTransform::thumbnail(path, THUMBNAIL)?,
    })
}

/// The gallery of an image run, or `None` when its examples are not pictures.
pub(crate) fn gallery(
    labels: &LabelMap,
    train: Pictures<'_>,
    scored: &[(&str, Pictures<'_>)],
) -> Result<Option<Gallery>> {
    let path = |e: &Example| e.picture().map(Path::to_path_buf);
    if !train.examples.iter().any(|e| path(e).is_some()) {
        return Ok(None);
    }
    let name = |k: usize| labels.label(k).as_text();
    let mut examples = Vec::new();
    for class in 0..labels.len() {
        let rows = (0..train.examples.len()).filter(|&r| train.targets[r] == class);
        for r in rows
            .filter(|&r| path(&train.examples[r]).is_some())
            .take(EXAMPLES_PER_CLASS)
        {
            if let Some(p) = path(&train.examples[r]) {
                examples.push(tile(&p, name(class), None)?);
            }
        }
    }
    let mut wrong = Vec::new();
    for (set, pictures) in scored {
        let Some(proba) = pictures.proba else {
            continue;
        };
        // (confidence in the wrong class, row, predicted class)
        let mut mistakes: Vec<(f64, usize, usize)> = proba
            .iter()
            .enumerate()
            .filter_map(|(r, p)| {
                let (k, &top) = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
                (k != pictures.targets[r]).then_some((top, r, k))
            })
            .collect();
        mistakes.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut per_class = vec![0usize; labels.len()];
        let mut tiles = Vec::new();
        for (confidence, r, k) in mistakes {
            let truth = pictures.targets[r];
            if per_class[truth] >= WRONG_PER_CLASS || tiles.len() >= WRONG_IN_ALL {
                continue;
            }
            if let Some(p) = path(&pictures.examples[r]) {
                per_class[truth] += 1;
                tiles.push(tile(&p, name(truth), Some((name(k), confidence)))?);
            }
        }
        wrong.push((set.to_string(), tiles));
    }
    Ok(Some(Gallery {
        format: FORMAT,
        examples,
        wrong,
    }))
}
