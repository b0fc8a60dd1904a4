//! ADASYN: SMOTE that grows more rows from the rows that other classes crowd.

use std::collections::BTreeMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

use super::method::Method;
use super::neighbours::kneighbors_of_rows;
use super::resample::{Input, Names, Origin, Resampled};
use super::smote::step_toward;

/// For each row of `class` (in order), the share of its `n_neighbors` nearest rows of any
/// class (itself left out) that belong to another class: ADASYN's weight before it is
/// normalised over the class.
pub fn adasyn_ratios(
    x: &[f64],
    dim: usize,
    y: &[usize],
    class: usize,
    n_neighbors: usize,
) -> Result<Vec<f64>> {
    let names = Names::default();
    let n_classes = y.iter().max().map_or(0, |&c| c + 1).max(class + 1);
    let input = Input::new(x, dim, y, n_classes, &names)?;
    ratios(&input, class, n_neighbors, Method::Adasyn)
}

/// [`adasyn_ratios`] on checked input.
fn ratios(input: &Input, class: usize, n: usize, method: Method) -> Result<Vec<f64>> {
    input.check_neighbours(method, n, "n_neighbors")?;
    let rows = input.class_rows(class);
    let neighbours = kneighbors_of_rows(input.x, input.dim, &rows, n);
    Ok(neighbours
        .iter()
        .map(|near| near.iter().filter(|&&j| input.y[j] != class).count() as f64 / n as f64)
        .collect())
}

/// How many rows ADASYN grows from each row of a class, given the class's [`adasyn_ratios`]
/// and the number of rows asked: `rint(ratio / Σ ratios × n_new)`, rounding half to even
/// as numpy does — so the total can differ from `n_new` by a few rows.
///
/// An error when every ratio is 0: no row of the class has a neighbour of another class.
pub fn adasyn_counts(ratios: &[f64], n_new: usize) -> Result<Vec<usize>> {
    let total = numpy_sum(ratios);
    if total == 0.0 {
        return Err(Error::Invalid(
            "adasyn: no row of the class has a neighbour of another class, so ADASYN has nothing to weight by \
             (imbalanced-learn stops here too); use smote instead"
                .into(),
        ));
    }
    Ok(ratios
        .iter()
        .map(|&r| ((r / total) * n_new as f64).round_ties_even() as usize)
        .collect())
}

/// `ADASYN`: every input row, then for each class to grow, `adasyn_counts` new rows from
/// each of its rows, each toward one of that row's `n` nearest neighbours of the same class.
pub(crate) fn adasyn(
    input: &Input,
    targets: &BTreeMap<usize, usize>,
    n: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Resampled> {
    let method = Method::Adasyn;
    let mut out = Resampled::all_rows(input);
    for (&class, &n_new) in targets {
        if n_new == 0 {
            continue;
        }
        let weights = ratios(input, class, n, method)?;
        let per_row = adasyn_counts(&weights, n_new).map_err(|_| {
            Error::Invalid(format!(
                "adasyn: no row of {} has a neighbour of another class among its {n} nearest, so ADASYN has \
                 nothing to weight by (imbalanced-learn stops here too); use smote instead",
                input.names.class(class)
            ))
        })?;
        if per_row.iter().sum::<usize>() == 0 {
            return Err(Error::Invalid(format!(
                "adasyn: rounding leaves no rows to generate for {} (imbalanced-learn: No samples will be \
                 generated with the provided ratio settings); ask for more rows",
                input.names.class(class)
            )));
        }
        let rows = input.class_rows(class);
        let neighbours = input.neighbours_within_class(method, class, &rows, n, "n_neighbors")?;
        let mut row = vec![0.0; input.dim];
        for (position, &count) in per_row.iter().enumerate() {
            for _ in 0..count {
                let from = rows[position];
                let neighbour = neighbours[position][rng.random_range(0..n)];
                let step: f64 = rng.random();
                step_toward(input.row(from), input.row(neighbour), step, 1.0, &mut row);
                out.push_synthetic(
                    class,
                    &row,
                    Origin::Synthetic {
                        from,
                        neighbour,
                        gap: step,
                    },
                );
            }
        }
    }
    Ok(out)
}

/// numpy's pairwise summation of a contiguous float64 array, so that sums, and the
/// roundings that follow them, come out as in imbalanced-learn.
fn numpy_sum(values: &[f64]) -> f64 {
    let n = values.len();
    if n < 8 {
        let mut sum = 0.0;
        for &v in values {
            sum += v;
        }
        sum
    } else if n <= 128 {
        let mut lanes = [0.0f64; 8];
        lanes.copy_from_slice(&values[..8]);
        let blocks = n - n % 8;
        for start in (8..blocks).step_by(8) {
            for (lane, &v) in lanes.iter_mut().zip(&values[start..start + 8]) {
                *lane += v;
            }
        }
        let mut sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
            + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
        for &v in &values[blocks..] {
            sum += v;
        }
        sum
    } else {
        let mut half = n / 2;
        half -= half % 8;
        numpy_sum(&values[..half]) + numpy_sum(&values[half..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_half_to_even_and_all_zero_is_an_error() {
        // Shares 1/4 and 3/4 of 10 rows: 2.5 → 2 and 7.5 → 8.
        assert_eq!(adasyn_counts(&[0.25, 0.75], 10).unwrap(), vec![2, 8]);
        // As numpy: 0.6 / (0.2 + 0.6) × 10 is 7.4999…, so 7, not 8.
        assert_eq!(adasyn_counts(&[0.2, 0.6], 10).unwrap(), vec![2, 7]);
        assert!(adasyn_counts(&[0.0, 0.0], 10).is_err());
    }

    #[test]
    fn pairwise_sum_matches_a_plain_sum_on_exact_values() {
        let values: Vec<f64> = (0..300).map(|i| (i % 7) as f64).collect();
        let plain: f64 = values.iter().sum();
        assert_eq!(numpy_sum(&values), plain);
        assert_eq!(numpy_sum(&[]), 0.0);
    }
}
