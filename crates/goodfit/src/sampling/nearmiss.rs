//! NearMiss: under-sampling that keeps the rows nearest to (or, version 3, farthest from)
//! the minority class.

use std::collections::BTreeMap;

use crate::error::Result;

use super::method::Method;
use super::neighbours::{kneighbor_indices, kneighbors};
use super::resample::Input;

/// `NearMiss(version)`: the kept input rows, class by class. A class among `targets`' keys
/// keeps its asked number of rows in the order NearMiss ranks them; other classes keep all
/// their rows in order.
///
/// Each candidate row is scored by the sum of its distances to the last `n` of some minority
/// rows (sorted nearest first): version 1, its `n` nearest minority rows (smallest sum
/// first); version 2, its `n` farthest ones (smallest sum first); version 3 scores only the
/// rows that are among the `n_ver3` nearest of the class to some minority row, by their `n`
/// nearest minority rows, largest sum first — and so may keep fewer rows than asked.
/// Equal scores keep row order (Python's stable `sorted`).
pub(crate) fn kept(
    input: &Input,
    targets: &BTreeMap<usize, usize>,
    version: u8,
    n: usize,
    n_ver3: usize,
    method: Method,
) -> Result<Vec<usize>> {
    let present = input.present_classes();
    let minority = *present
        .iter()
        .min_by_key(|&&c| input.counts[c])
        .expect("2 classes or more");
    let minority_rows = input.class_rows(minority);
    let minority_data = input.gather(&minority_rows);
    if version != 2 {
        input.need_rows(
            method,
            &format!("the minority {}", input.names.class(minority)),
            minority_rows.len(),
            n,
            &format!("n_neighbors = {n}"),
            "the nearest minority rows each row is scored by",
        )?;
    }
    let mut kept = Vec::new();
    for class in present {
        let rows = input.class_rows(class);
        let Some(&n_keep) = targets.get(&class) else {
            kept.extend(rows);
            continue;
        };
        let (candidates, farthest_first, k) = match version {
            1 => ((0..rows.len()).collect::<Vec<_>>(), false, n),
            2 => ((0..rows.len()).collect(), false, minority_rows.len()),
            _ => {
                input.need_rows(
                    method,
                    &input.names.class(class),
                    rows.len(),
                    n_ver3,
                    &format!("n_neighbors_ver3 = {n_ver3}"),
                    "the rows of the class nearest to each minority row",
                )?;
                let mut near: Vec<usize> =
                    kneighbor_indices(&input.gather(&rows), &minority_data, input.dim, n_ver3)
                        .into_iter()
                        .flatten()
                        .collect();
                near.sort_unstable();
                near.dedup();
                (near, true, n)
            }
        };
        let candidate_rows: Vec<usize> = candidates.iter().map(|&p| rows[p]).collect();
        let scores: Vec<f64> =
            kneighbors(&minority_data, &input.gather(&candidate_rows), input.dim, k)
                .iter()
                .map(|near| {
                    // numpy's dist_vec[:, -n:].sum(axis=1): the last n distances, left to right.
                    let mut sum = 0.0;
                    for neighbour in &near[near.len().saturating_sub(n)..] {
                        sum += neighbour.distance;
                    }
                    sum
                })
                .collect();
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        if farthest_first {
            order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
        } else {
            order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        }
        kept.extend(order.into_iter().take(n_keep).map(|i| candidate_rows[i]));
    }
    Ok(kept)
}
