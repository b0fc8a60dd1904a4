//! The pictures an image run's report shows (`gallery.json`, see
//! [`crate::run_folder::gallery`]): the first few training pictures of each class, the
//! validation and test pictures the model got wrong with the most confidence, a few per
//! true class, and with augmentation on, the first training picture of a few classes as
//! it is and as training saw it in a few draws.

use std::path::Path;

use crate::data::LabelMap;
use crate::error::Result;
use crate::model::image_augment::ImageAugment;
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
/// Classes whose first training picture the augmentation grid shows, and draws of each.
const AUGMENTED_CLASSES: usize = 4;
const AUGMENTED_DRAWS: u64 = 5;

/// A run's augmentation, for the grid: what it does, the model's input side, the seed.
pub(crate) struct Augmentation {
    /// The augmentations.
    pub augment: ImageAugment,
    /// The side of the model's input, in pixels.
    pub size: u32,
    /// The run's seed.
    pub seed: u64,
}

/// The first picture of up to [`AUGMENTED_CLASSES`] classes, each as it is, then as
/// `augmentation` changes it in [`AUGMENTED_DRAWS`] seeded draws (at the model's input
/// size, as training sees it).
fn augmented_tiles(
    firsts: &[(String, std::path::PathBuf)],
    augmentation: &Augmentation,
) -> Result<Vec<Tile>> {
    use rand::SeedableRng;
    let mut tiles = Vec::new();
    for (label, path) in firsts.iter().take(AUGMENTED_CLASSES) {
        let picture = ImageTransform::decode(path)?;
        tiles.push(tile(path, label.clone(), None, None)?);
        for draw in 0..AUGMENTED_DRAWS {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
                augmentation.seed ^ 0x6761_6C6C_6572_7900 ^ draw,
            );
            let changed = augmentation
                .augment
                .apply(&picture, augmentation.size, &mut rng);
            let image = ImageTransform::thumbnail_of(changed, THUMBNAIL, path)?;
            tiles.push(tile(
                path,
                format!("{label}, draw {}", draw + 1),
                None,
                Some(image),
            )?);
        }
    }
    Ok(tiles)
}

/// A set of pictures with their classes and, when scored, the model's probabilities.
pub(crate) struct Pictures<'a> {
    /// The examples (pictures have paths; others are skipped).
    pub examples: &'a [Example],
    /// Their classes.
    pub targets: &'a [usize],
    /// The model's class probabilities for each.
    pub proba: Option<&'a [Vec<f64>]>,
}

/// The tile of the picture at `path` (shown as `image`, its thumbnail when `None`).
fn tile(
    path: &Path,
    label: String,
    wrong: Option<(String, f64)>,
    image: Option<String>,
) -> Result<Tile> {
    let image = match image {
        Some(image) => image,
        None => ImageTransform::thumbnail(path, THUMBNAIL)?,
    };
    Ok(Tile {
        label,
        predicted: wrong.as_ref().map(|w| w.0.clone()),
        probability: wrong.map(|w| w.1),
        source: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        image,
    })
}

/// The gallery of an image run, or `None` when its examples are not pictures.
pub(crate) fn gallery(
    labels: &LabelMap,
    train: Pictures<'_>,
    scored: &[(&str, Pictures<'_>)],
    augmentation: Option<&Augmentation>,
) -> Result<Option<Gallery>> {
    let path = |e: &Example| e.picture().map(Path::to_path_buf);
    if !train.examples.iter().any(|e| path(e).is_some()) {
        return Ok(None);
    }
    let name = |k: usize| labels.label(k).as_text();
    let mut examples = Vec::new();
    let mut firsts = Vec::new();
    for class in 0..labels.len() {
        let rows = (0..train.examples.len()).filter(|&r| train.targets[r] == class);
        let mut first = true;
        for r in rows
            .filter(|&r| path(&train.examples[r]).is_some())
            .take(EXAMPLES_PER_CLASS)
        {
            if let Some(p) = path(&train.examples[r]) {
                if std::mem::take(&mut first) {
                    firsts.push((name(class), p.clone()));
                }
                examples.push(tile(&p, name(class), None, None)?);
            }
        }
    }
    let augmented = match augmentation {
        Some(a) if a.augment.is_on() => augmented_tiles(&firsts, a)?,
        _ => Vec::new(),
    };
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
                tiles.push(tile(&p, name(truth), Some((name(k), confidence)), None)?);
            }
        }
        wrong.push((set.to_string(), tiles));
    }
    Ok(Some(Gallery {
        format: FORMAT,
        examples,
        wrong,
        augmented,
    }))
}
