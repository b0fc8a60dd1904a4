//! What `inspect` says of a set of pictures: their sizes and channels, the files it cannot
//! read, exact duplicates (the same bytes) and near-duplicates (the same 64-bit difference
//! hash, dHash, within a few bits: the same picture resized, recompressed or slightly
//! edited), and the same between training and test pictures (leakage).
//!
//! dHash (Krawetz 2013, as the `imagehash` Python package computes `dhash` with
//! `hash_size=16`): the picture in grey, shrunk to 17×16, one bit per pair of horizontal
//! neighbours, set when the left one is brighter. A hash says two pictures have the same
//! shape, not that they are the same: on the shipped Fashion-MNIST example the 8×8 hash
//! within 4 bits called 738 of 1,120 training pictures "near-identical", and the 16×16 hash
//! within 8 bits still 88 (different trousers of one silhouette). So a near pair must also
//! agree pixel by pixel: their 16×16 grey thumbnails differ by at most [`NEAR_GREY`] on
//! average (of 255), which a resized or recompressed copy does (the test below) and which
//! leaves one pair of plain trousers on that example (6 grey levels: 6 groups).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use image::imageops::FilterType;
use serde::Serialize;

use super::label::Label;

/// Hashes at most this many bits apart are near-duplicates (of 256).
pub const NEAR_BITS: u32 = 8;
/// The hash's side: `SIDE`² bits.
const SIDE: u32 = 16;
/// Near pictures' largest mean absolute difference of their grey thumbnails (of 255).
pub const NEAR_GREY: f64 = 4.0;

/// A 256-bit difference hash.
type DHash = [u64; 4];

fn distance(a: &DHash, b: &DHash) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// One picture's file facts.
struct Picture {
    bytes_hash: u64,
    dhash: DHash,
    thumbnail: Vec<u8>,
    width: u32,
    height: u32,
    channels: &'static str,
}

/// A picture that could not be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unreadable {
    /// The row (1-based).
    pub row: usize,
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub why: String,
}

/// Pictures that are the same, or nearly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicateGroup {
    /// Their rows (1-based).
    pub rows: Vec<usize>,
    /// Whether their labels differ (a label error, or a task that cannot tell them apart).
    pub conflicting: bool,
}

/// What a set of pictures looks like.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageStats {
    /// Pictures read.
    pub pictures: usize,
    /// Smallest, median and largest width in pixels.
    pub width: [u32; 3],
    /// Smallest, median and largest height in pixels.
    pub height: [u32; 3],
    /// Pictures per colour layout (`grey`, `grey+alpha`, `rgb`, `rgba`, …).
    pub channels: Vec<(String, usize)>,
    /// Files that are missing or not pictures goodfit decodes (the first 20).
    pub unreadable: Vec<Unreadable>,
    /// Groups of byte-identical pictures.
    pub exact_duplicates: Vec<DuplicateGroup>,
    /// Groups of near-identical pictures (dHash within [`NEAR_BITS`]) that are not exact.
    pub near_duplicates: Vec<DuplicateGroup>,
    /// Test pictures with the same bytes as a training picture.
    pub exact_leaks: usize,
    /// Test pictures near-identical to a training picture (not exact).
    pub near_leaks: usize,
}

/// Whether two pictures are the same picture in all but encoding and size.
fn near(a: &Picture, b: &Picture) -> bool {
    if distance(&a.dhash, &b.dhash) > NEAR_BITS {
        return false;
    }
    let total: u64 = a
        .thumbnail
        .iter()
        .zip(&b.thumbnail)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.thumbnail.len().max(1) as f64 <= NEAR_GREY
}

fn read(path: &Path) -> Result<Picture, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let decoded = image::load_from_memory(&bytes).map_err(|e| e.to_string())?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    let channels = match decoded.color() {
        image::ColorType::L8 | image::ColorType::L16 => "grey",
        image::ColorType::La8 | image::ColorType::La16 => "grey+alpha",
        image::ColorType::Rgb8 | image::ColorType::Rgb16 | image::ColorType::Rgb32F => "rgb",
        _ => "rgba",
    };
    let grey = decoded.to_luma8();
    let small = image::imageops::resize(&grey, SIDE + 1, SIDE, FilterType::Triangle);
    let mut dhash: DHash = [0; 4];
    for y in 0..SIDE {
        for x in 0..SIDE {
            let bit = (y * SIDE + x) as usize;
            if small.get_pixel(x, y)[0] > small.get_pixel(x + 1, y)[0] {
                dhash[bit / 64] |= 1 << (bit % 64);
            }
        }
    }
    let thumbnail = image::imageops::resize(&grey, SIDE, SIDE, FilterType::Triangle).into_raw();
    Ok(Picture {
        bytes_hash: hasher.finish(),
        dhash,
        thumbnail,
        width: decoded.width(),
        height: decoded.height(),
        channels,
    })
}

/// The facts of `paths` (row i is `paths[i]`, labelled `labels[i]`), and of `test` against
/// them.
pub fn image_stats(paths: &[PathBuf], labels: &[Label], test: Option<&[PathBuf]>) -> ImageStats {
    let mut unreadable = Vec::new();
    let mut read_all = |paths: &[PathBuf], report: bool| -> Vec<Option<Picture>> {
        paths
            .iter()
            .enumerate()
            .map(|(i, path)| match read(path) {
                Ok(picture) => Some(picture),
                Err(why) => {
                    if report && unreadable.len() < 20 {
                        unreadable.push(Unreadable {
                            row: i + 1,
                            path: path.clone(),
                            why,
                        });
                    }
                    None
                }
            })
            .collect()
    };
    let pictures = read_all(paths, true);
    let test_pictures = test.map(|t| read_all(t, false)).unwrap_or_default();
    let good: Vec<(usize, &Picture)> = pictures
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.as_ref().map(|p| (i, p)))
        .collect();
    let spread = |values: Vec<u32>| -> [u32; 3] {
        let mut v = values;
        v.sort_unstable();
        match v.len() {
            0 => [0; 3],
            n => [v[0], v[n / 2], v[n - 1]],
        }
    };
    let mut channels: HashMap<&str, usize> = HashMap::new();
    for (_, p) in &good {
        *channels.entry(p.channels).or_default() += 1;
    }
    let mut channels: Vec<(String, usize)> = channels
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    channels.sort();

    let group = |rows: Vec<usize>| DuplicateGroup {
        conflicting: rows.iter().any(|&r| labels.get(r) != labels.get(rows[0])),
        rows: rows.iter().map(|r| r + 1).collect(),
    };
    let mut by_bytes: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, p) in &good {
        by_bytes.entry(p.bytes_hash).or_default().push(*i);
    }
    let mut exact: Vec<DuplicateGroup> = by_bytes
        .into_values()
        .filter(|rows| rows.len() > 1)
        .map(group)
        .collect();
    exact.sort_by_key(|g| g.rows[0]);
    // Near-duplicates: pictures within NEAR_BITS of an earlier one join its group (single
    // linkage over the pairs), byte-identical pairs left to the exact groups.
    let mut parent: Vec<usize> = (0..pictures.len()).collect();
    fn root(parent: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while parent[r] != r {
            r = parent[r];
        }
        parent[i] = r;
        r
    }
    for (a, (i, p)) in good.iter().enumerate() {
        for (j, q) in &good[a + 1..] {
            if p.bytes_hash != q.bytes_hash && near(p, q) {
                let (ri, rj) = (root(&mut parent, *i), root(&mut parent, *j));
                parent[rj.max(ri)] = ri.min(rj);
            }
        }
    }
    let mut near_groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, _) in &good {
        let r = root(&mut parent, *i);
        near_groups.entry(r).or_default().push(*i);
    }
    let mut near_dups: Vec<DuplicateGroup> = near_groups
        .into_values()
        .filter(|rows| rows.len() > 1)
        .map(group)
        .collect();
    near_dups.sort_by_key(|g| g.rows[0]);

    let (mut exact_leaks, mut near_leaks) = (0, 0);
    for t in test_pictures.iter().flatten() {
        if good.iter().any(|(_, p)| p.bytes_hash == t.bytes_hash) {
            exact_leaks += 1;
        } else if good.iter().any(|(_, p)| near(p, t)) {
            near_leaks += 1;
        }
    }
    ImageStats {
        pictures: good.len(),
        width: spread(good.iter().map(|(_, p)| p.width).collect()),
        height: spread(good.iter().map(|(_, p)| p.height).collect()),
        channels,
        unreadable,
        exact_duplicates: exact,
        near_duplicates: near_dups,
        exact_leaks,
        near_leaks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn save(dir: &Path, name: &str, picture: &image::RgbImage) -> PathBuf {
        let path = dir.join(name);
        picture.save(&path).unwrap();
        path
    }

    #[test]
    fn duplicates_near_duplicates_leaks_and_unreadable_files() {
        let dir = tempfile::tempdir().unwrap();
        let stripes = image::RgbImage::from_fn(40, 32, |x, _| image::Rgb([(x * 6) as u8; 3]));
        let checks = image::RgbImage::from_fn(40, 32, |x, y| {
            image::Rgb([if (x / 5 + y / 4) % 2 == 0 { 250 } else { 5 }; 3])
        });
        let a = save(dir.path(), "a.png", &stripes);
        let b = save(dir.path(), "b.png", &stripes);
        let smaller = image::imageops::resize(&stripes, 20, 16, FilterType::Triangle);
        let c = save(dir.path(), "c.png", &smaller);
        let d = save(dir.path(), "d.png", &checks);
        let broken = dir.path().join("e.png");
        std::fs::write(&broken, "no").unwrap();
        let labels = ["x", "x", "y", "z", "z"].map(Label::parse);
        let test = [
            save(dir.path(), "t.jpg", &checks),
            save(dir.path(), "u.png", &checks),
        ];
        let stats = image_stats(&[a, b, c, d.clone(), broken], &labels, Some(&test));
        assert_eq!(stats.pictures, 4);
        assert_eq!(stats.width, [20, 40, 40]);
        assert_eq!(stats.channels, [("rgb".to_string(), 4)]);
        assert_eq!(stats.unreadable.len(), 1);
        assert_eq!(stats.unreadable[0].row, 5);
        assert_eq!(stats.exact_duplicates.len(), 1);
        assert_eq!(stats.exact_duplicates[0].rows, [1, 2]);
        assert!(!stats.exact_duplicates[0].conflicting);
        // The half-size copy is near rows 1 and 2, with another label.
        assert_eq!(stats.near_duplicates.len(), 1);
        assert!(stats.near_duplicates[0].rows.contains(&3));
        assert!(stats.near_duplicates[0].conflicting);
        // u.png is d.png's bytes; t.jpg the same picture recompressed.
        assert_eq!((stats.exact_leaks, stats.near_leaks), (1, 1));
    }
}
