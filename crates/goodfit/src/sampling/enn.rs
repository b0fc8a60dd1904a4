//! Edited Nearest Neighbours: removes the rows whose neighbours disagree with their class.

use std::collections::BTreeMap;

use crate::error::Result;

use super::method::{EnnKind, Method};
use super::neighbours::kneighbors_of_rows;
use super::resample::Input;

/// `EditedNearestNeighbours`: the kept input rows, class by class (each in order). A row
/// of a class among `targets`' keys stays when its `n` nearest rows (itself left out) all
/// share its class ([`EnnKind::All`]) or their most common class — the lowest on a tie,
/// as `scipy.stats.mode` — is its own ([`EnnKind::Mode`]); rows of other classes all stay.
pub(crate) fn kept(
    input: &Input,
    targets: &BTreeMap<usize, usize>,
    n: usize,
    kind: EnnKind,
    method: Method,
) -> Result<Vec<usize>> {
    input.check_neighbours(method, n, "n_neighbors")?;
    let n_classes = input.counts.len();
    let mut kept = Vec::new();
    for class in input.present_classes() {
        let rows = input.class_rows(class);
        if !targets.contains_key(&class) {
            kept.extend(rows);
            continue;
        }
        let neighbours = kneighbors_of_rows(input.x, input.dim, &rows, n);
        for (&row, near) in rows.iter().zip(&neighbours) {
            let agrees = match kind {
                EnnKind::All => near.iter().all(|&j| input.y[j] == class),
                EnnKind::Mode => mode(near.iter().map(|&j| input.y[j]), n_classes) == class,
            };
            if agrees {
                kept.push(row);
            }
        }
    }
    Ok(kept)
}

/// The most common class, the lowest among equally common ones.
fn mode(classes: impl Iterator<Item = usize>, n_classes: usize) -> usize {
    let mut tally = vec![0usize; n_classes];
    for c in classes {
        tally[c] += 1;
    }
    // max_by_key keeps the last maximum: search from the top so the lowest class wins.
    (0..n_classes).rev().max_by_key(|&c| tally[c]).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::mode;

    #[test]
    fn mode_breaks_ties_toward_the_lowest_class() {
        assert_eq!(mode([2, 1, 0].into_iter(), 3), 0);
        assert_eq!(mode([2, 1, 2].into_iter(), 3), 2);
        assert_eq!(mode([2, 1].into_iter(), 3), 1);
    }
}
