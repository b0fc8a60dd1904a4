//! Random over- and under-sampling: copies or drops whole rows, nothing new is made.

use std::collections::BTreeMap;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::resample::{Input, Resampled};

/// `RandomOverSampler`: every input row, then, class by class, the asked number of rows
/// drawn with replacement from that class.
pub(crate) fn over(
    input: &Input,
    targets: &BTreeMap<usize, usize>,
    rng: &mut ChaCha8Rng,
) -> Resampled {
    let mut out = Resampled::all_rows(input);
    for (&class, &n_new) in targets {
        let rows = input.class_rows(class);
        for _ in 0..n_new {
            out.push_original(input, rows[rng.random_range(0..rows.len())]);
        }
    }
    out
}

/// `RandomUnderSampler` (without replacement): the kept rows, class by class; a class that
/// is resampled gives its asked number of rows in the order drawn, the others all their rows
/// in order.
pub(crate) fn under(
    input: &Input,
    targets: &BTreeMap<usize, usize>,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    let mut kept = Vec::new();
    for class in input.present_classes() {
        let rows = input.class_rows(class);
        match targets.get(&class) {
            Some(&n_keep) => {
                let drawn = rand::seq::index::sample(rng, rows.len(), n_keep);
                kept.extend(drawn.into_iter().map(|i| rows[i]));
            }
            None => kept.extend(rows),
        }
    }
    kept
}
