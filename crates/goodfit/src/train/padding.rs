//! How much of each batch is padding, with and without grouping by length.
//!
//! A batch is padded to its longest example and the padding is computed like real tokens,
//! so on reviews whose lengths vary tenfold most of a randomly drawn batch can be padding.
//! Training batches are grouped by length ([`epoch_batches`] with lengths) and evaluation
//! batches sorted ([`eval_batches`]); this measures what that saves on a dataset
//! (`goodfit bench --padding-data FILE`).

use serde::Serialize;

use super::batching::{epoch_batches, eval_batches};

/// Token slots computed for one pass over a dataset, by batching strategy.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PaddingReport {
    /// Examples.
    pub examples: usize,
    /// Real tokens (the least any batching can compute).
    pub tokens: usize,
    /// Slots of randomly drawn batches (one seeded epoch).
    pub random_slots: usize,
    /// Slots of length-grouped training batches (one seeded epoch).
    pub grouped_slots: usize,
    /// Slots of evaluation batches sorted by length.
    pub sorted_slots: usize,
}

impl PaddingReport {
    /// The fraction of `slots` that is padding.
    pub fn padding_fraction(&self, slots: usize) -> f64 {
        if slots == 0 {
            0.0
        } else {
            1.0 - self.tokens as f64 / slots as f64
        }
    }
}

/// Counts the slots each strategy computes for examples of `lengths` tokens in batches of
/// `batch_size`.
pub fn padding_report(lengths: &[usize], batch_size: usize, seed: u64) -> PaddingReport {
    let rows: Vec<usize> = (0..lengths.len()).collect();
    let slots = |batches: Vec<Vec<usize>>| -> usize {
        batches
            .iter()
            .map(|b| b.len() * b.iter().map(|&r| lengths[r]).max().unwrap_or(0))
            .sum()
    };
    PaddingReport {
        examples: lengths.len(),
        tokens: lengths.iter().sum(),
        random_slots: slots(epoch_batches(&rows, batch_size, seed, 0, None)),
        grouped_slots: slots(epoch_batches(&rows, batch_size, seed, 0, Some(lengths))),
        sorted_slots: slots(eval_batches(&rows, batch_size, lengths)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_slots_per_strategy() {
        // Two short and two long examples, batches of two.
        let report = padding_report(&[2, 10, 2, 10], 2, 0);
        assert_eq!(report.tokens, 24);
        // Sorted: [10, 10] and [2, 2] pad nothing.
        assert_eq!(report.sorted_slots, 24);
        assert_eq!(report.padding_fraction(report.sorted_slots), 0.0);
        // Grouped within one mega-batch: also nothing.
        assert_eq!(report.grouped_slots, 24);
        // Random batches compute between the minimum and all-long (40 slots).
        assert!((24..=40).contains(&report.random_slots));
        assert_eq!(report.padding_fraction(40), 0.4);
    }
}
