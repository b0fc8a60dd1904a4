//! SMOTE, and the interpolation that SMOTE, borderline-SMOTE and SMOTE's combinations
//! share.

use std::collections::BTreeMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::error::Result;

use super::method::Method;
use super::resample::{Input, Origin, Resampled};

/// `SMOTE`: every input row, then for each class to grow, new rows on segments from a row
/// of the class toward one of its `k` nearest neighbours of the same class.
pub(crate) fn smote(
    input: &Input,
    targets: &BTreeMap<usize, usize>,
    k: usize,
    method: Method,
    rng: &mut ChaCha8Rng,
) -> Result<Resampled> {
    let mut out = Resampled::all_rows(input);
    for (&class, &n_new) in targets {
        if n_new == 0 {
            continue;
        }
        let rows = input.class_rows(class);
        let neighbours = input.neighbours_within_class(method, class, &rows, k, "k_neighbors")?;
        interpolate(
            input,
            class,
            &rows,
            &neighbours,
            n_new,
            false,
            rng,
            &mut out,
        );
    }
    Ok(out)
}

/// Appends `n_new` rows of `class` to `out`, as imbalanced-learn's `_make_samples`: each
/// picks a (base row, neighbour) pair uniformly among `bases[i]` × `neighbours[i]` (input
/// row indices; every `neighbours[i]` the same length) and a step in [0, 1), and lies at
/// `base + step · (neighbour − base)`.
///
/// With `shrink_other_class` (borderline-2), a neighbour of another class is approached at
/// most half-way: the step is multiplied by a further draw in [0, 0.5).
#[allow(clippy::too_many_arguments)]
pub(crate) fn interpolate(
    input: &Input,
    class: usize,
    bases: &[usize],
    neighbours: &[Vec<usize>],
    n_new: usize,
    shrink_other_class: bool,
    rng: &mut ChaCha8Rng,
    out: &mut Resampled,
) {
    let width = neighbours.first().map_or(0, Vec::len);
    if bases.is_empty() || width == 0 {
        return;
    }
    let mut row = vec![0.0; input.dim];
    for _ in 0..n_new {
        let pick = rng.random_range(0..bases.len() * width);
        let (from, neighbour) = (bases[pick / width], neighbours[pick / width][pick % width]);
        let step: f64 = rng.random();
        let shrink = if shrink_other_class && input.y[neighbour] != class {
            rng.random::<f64>() * 0.5
        } else {
            1.0
        };
        step_toward(
            input.row(from),
            input.row(neighbour),
            step,
            shrink,
            &mut row,
        );
        let gap = if shrink == 1.0 { step } else { step * shrink };
        out.push_synthetic(
            class,
            &row,
            Origin::Synthetic {
                from,
                neighbour,
                gap,
            },
        );
    }
}

/// `base + step · (shrink · (toward − base))`, in imbalanced-learn's order of operations.
pub(crate) fn step_toward(base: &[f64], toward: &[f64], step: f64, shrink: f64, out: &mut [f64]) {
    for ((o, &b), &t) in out.iter_mut().zip(base).zip(toward) {
        let diff = if shrink == 1.0 {
            t - b
        } else {
            (t - b) * shrink
        };
        *o = b + step * diff;
    }
}
