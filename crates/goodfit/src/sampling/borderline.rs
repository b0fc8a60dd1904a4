//! Borderline-SMOTE: SMOTE grown only from the rows "in danger" — those with many, but not
//! only, neighbours of other classes.

use std::collections::BTreeMap;

use rand_chacha::ChaCha8Rng;

use crate::error::Result;

use super::method::Method;
use super::neighbours::kneighbors_of_rows;
use super::resample::{Input, Names, Resampled};
use super::smote::interpolate;

/// The rows of `class` that borderline-SMOTE grows from (imbalanced-learn's
/// `in_danger_indices`): of their `m_neighbors` nearest rows of any class (themselves
/// left out), at least half but not all belong to other classes.
///
/// `x` is row-major with `dim` values per row; the result holds input row indices, in order.
pub fn danger_indices(
    x: &[f64],
    dim: usize,
    y: &[usize],
    class: usize,
    m_neighbors: usize,
) -> Result<Vec<usize>> {
    let names = Names::default();
    let n_classes = y.iter().max().map_or(0, |&c| c + 1).max(class + 1);
    let input = Input::new(x, dim, y, n_classes, &names)?;
    let method = Method::Borderline1;
    input.check_neighbours(method, m_neighbors, "m_neighbors")?;
    Ok(danger_rows(&input, class, m_neighbors))
}

/// [`danger_indices`] on checked input.
fn danger_rows(input: &Input, class: usize, m: usize) -> Vec<usize> {
    let rows = input.class_rows(class);
    let neighbours = kneighbors_of_rows(input.x, input.dim, &rows, m);
    rows.iter()
        .zip(neighbours)
        .filter(|(_, near)| {
            let others = near.iter().filter(|&&j| input.y[j] != class).count();
            // m/2 <= others < m; `others == m` would be noise, not danger.
            2 * others >= m && others < m
        })
        .map(|(&row, _)| row)
        .collect()
}

/// `BorderlineSMOTE`: every input row, then for each class to grow, new rows from its rows
/// in danger toward their `k` nearest neighbours — of the same class (borderline-1), or of
/// any class, at most half-way toward another class (borderline-2). A class with no row in
/// danger gets no new rows, as in imbalanced-learn.
pub(crate) fn borderline(
    input: &Input,
    targets: &BTreeMap<usize, usize>,
    k: usize,
    m: usize,
    kind_2: bool,
    rng: &mut ChaCha8Rng,
) -> Result<Resampled> {
    let method = if kind_2 {
        Method::Borderline2
    } else {
        Method::Borderline1
    };
    let mut out = Resampled::all_rows(input);
    for (&class, &n_new) in targets {
        if n_new == 0 {
            continue;
        }
        input.check_neighbours(method, m, "m_neighbors")?;
        let danger = danger_rows(input, class, m);
        if danger.is_empty() {
            continue;
        }
        let neighbours: Vec<Vec<usize>> = if kind_2 {
            input.check_neighbours(method, k, "k_neighbors")?;
            kneighbors_of_rows(input.x, input.dim, &danger, k)
        } else {
            input.neighbours_within_class(method, class, &danger, k, "k_neighbors")?
        };
        interpolate(
            input,
            class,
            &danger,
            &neighbours,
            n_new,
            kind_2,
            rng,
            &mut out,
        );
    }
    Ok(out)
}
