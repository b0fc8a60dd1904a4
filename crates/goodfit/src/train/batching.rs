//! Mini-batches: which examples go together, and padding them into tensors.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::Result;
use crate::model::{BatchInputs, Collator, Example, Mode};

use super::config::TrainConfig;
use super::imbalance::Sampler;

/// One training epoch's batches and its dropout mode, as every loop over training data
/// draws them: the rows the sampler picks for `epoch` (all of them for `random`), shuffled
/// into batches (grouped by `lengths` when given), and dropout seeded from the seed and the
/// epoch, so a resumed run or a second loop sees the same epoch.
pub fn training_epoch(
    config: &TrainConfig,
    targets: &[usize],
    classes: usize,
    epoch: usize,
    lengths: Option<&[usize]>,
) -> Result<(Vec<Vec<usize>>, Mode)> {
    let rows = match config.sampler {
        Sampler::Random => (0..targets.len()).collect(),
        sampler => sampler.epoch_rows(targets, classes, config.seed, epoch)?,
    };
    let batches = epoch_batches(&rows, config.batch_size, config.seed, epoch, lengths);
    let mode = Mode::train(ChaCha8Rng::seed_from_u64(
        config.seed.wrapping_mul(31).wrapping_add(epoch as u64),
    ));
    Ok((batches, mode))
}

/// A padded mini-batch.
pub struct Batch {
    /// The model's inputs.
    pub inputs: BatchInputs,
    /// The dataset rows in the batch, in order.
    pub rows: Vec<usize>,
    /// Real tokens in the batch.
    pub tokens: usize,
    /// Token slots including padding.
    pub slots: usize,
}

/// The examples `rows` of `encoded` as one batch, padded by `collator` to the longest among
/// them (dynamic padding).
pub fn make_batch(encoded: &[Example], rows: &[usize], collator: &Collator) -> Result<Batch> {
    let examples: Vec<&Example> = rows.iter().map(|&r| &encoded[r]).collect();
    let collated = collator.collate(&examples)?;
    Ok(Batch {
        inputs: collated.inputs,
        rows: rows.to_vec(),
        tokens: collated.units,
        slots: collated.slots,
    })
}

/// The training batches of one epoch: a seeded shuffle of `rows` (the seed mixes in the epoch,
/// so a resumed run draws the same order), cut into batches.
///
/// With `lengths`, batches are grouped by length as Hugging Face's `group_by_length` does:
/// the shuffled rows are cut into mega-batches of 50 batches, each sorted by length, then cut
/// into batches, and the batch order is shuffled again, so each batch pads little and the
/// epoch stays random.
pub fn epoch_batches(
    rows: &[usize],
    batch_size: usize,
    seed: u64,
    epoch: usize,
    lengths: Option<&[usize]>,
) -> Vec<Vec<usize>> {
    let mut rng =
        ChaCha8Rng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut order = rows.to_vec();
    order.shuffle(&mut rng);
    let batch_size = batch_size.max(1);
    let Some(lengths) = lengths else {
        return order.chunks(batch_size).map(<[usize]>::to_vec).collect();
    };
    let mut batches: Vec<Vec<usize>> = Vec::new();
    for mega in order.chunks(batch_size * 50) {
        let mut mega = mega.to_vec();
        mega.sort_by_key(|&r| std::cmp::Reverse(lengths[r]));
        batches.extend(mega.chunks(batch_size).map(<[usize]>::to_vec));
    }
    batches.shuffle(&mut rng);
    batches
}

/// Batches for evaluation: rows sorted by length (longest first) so that padding is minimal;
/// the caller puts results back in row order through [`Batch::rows`].
pub fn eval_batches(rows: &[usize], batch_size: usize, lengths: &[usize]) -> Vec<Vec<usize>> {
    let mut order = rows.to_vec();
    order.sort_by_key(|&r| (std::cmp::Reverse(lengths[r]), r));
    order
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_their_rows_in_order() {
        let encoded = [vec![101, 7, 102], vec![101, 102], vec![101, 5, 6, 7, 102]]
            .map(Example::Tokens)
            .to_vec();
        let collator = Collator::text(0, candle_core::Device::Cpu);
        let batch = make_batch(&encoded, &[2, 1], &collator).unwrap();
        let BatchInputs::Text { ids, .. } = &batch.inputs else {
            panic!("text inputs")
        };
        assert_eq!(
            ids.to_vec2::<u32>().unwrap(),
            [[101, 5, 6, 7, 102], [101, 102, 0, 0, 0]]
        );
        assert_eq!(batch.rows, [2, 1]);
        assert_eq!((batch.tokens, batch.slots), (7, 10));
    }

    #[test]
    fn epochs_are_seeded_shuffles_covering_every_row() {
        let rows: Vec<usize> = (0..37).collect();
        let a = epoch_batches(&rows, 8, 3, 0, None);
        assert_eq!(a, epoch_batches(&rows, 8, 3, 0, None));
        assert_ne!(a, epoch_batches(&rows, 8, 3, 1, None));
        let mut all = a.concat();
        all.sort_unstable();
        assert_eq!(all, rows);
        assert_eq!(a.iter().map(Vec::len).collect::<Vec<_>>(), [8, 8, 8, 8, 5]);
    }

    #[test]
    fn length_grouping_reduces_padding() {
        let lengths: Vec<usize> = (0..400).map(|i| 5 + (i * 37) % 120).collect();
        let rows: Vec<usize> = (0..400).collect();
        let padded = |batches: &[Vec<usize>]| -> usize {
            batches
                .iter()
                .map(|b| b.len() * b.iter().map(|&r| lengths[r]).max().unwrap())
                .sum()
        };
        let random = padded(&epoch_batches(&rows, 16, 1, 0, None));
        let grouped_batches = epoch_batches(&rows, 16, 1, 0, Some(&lengths));
        let mut all = grouped_batches.concat();
        all.sort_unstable();
        assert_eq!(all, rows);
        assert!(
            padded(&grouped_batches) * 10 < random * 7,
            "grouping pads less"
        );
    }
}
