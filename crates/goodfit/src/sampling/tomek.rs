//! Tomek links: pairs of rows of different classes that are each other's nearest neighbour.

use std::collections::BTreeMap;

use crate::error::Result;

use super::method::Method;
use super::neighbours::kneighbors_of_rows;
use super::resample::Input;

/// `TomekLinks`: the input rows kept, in order — all but the members of a Tomek link whose
/// class is among `targets`' keys (with `auto`, every class but the minority, so a link
/// loses its non-minority member; with `all`, both members go).
pub(crate) fn kept(
    input: &Input,
    targets: &BTreeMap<usize, usize>,
    method: Method,
) -> Result<Vec<usize>> {
    input.need_rows(
        method,
        "the data",
        input.len(),
        2,
        "a Tomek link",
        "each row and its nearest neighbour",
    )?;
    // Each row's nearest other row (imbalanced-learn's `kneighbors(X)[:, 1]`).
    let all: Vec<usize> = (0..input.len()).collect();
    let nearest: Vec<usize> = kneighbors_of_rows(input.x, input.dim, &all, 1)
        .into_iter()
        .map(|near| near[0])
        .collect();
    let y = input.y;
    Ok((0..input.len())
        .filter(|&i| {
            let j = nearest[i];
            let linked = y[j] != y[i] && nearest[j] == i;
            !(linked && targets.contains_key(&y[i]))
        })
        .collect())
}
