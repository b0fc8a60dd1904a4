//! Easy data augmentation for text (Wei & Zou 2019, "EDA: Easy Data Augmentation Techniques
//! for Boosting Performance on Text Classification Tasks"): new training texts made by
//! swapping or deleting words of an existing one, which keep its label.
//!
//! Of EDA's four operations, the two that need no thesaurus: random swap and random
//! deletion, transcribed from the authors' `eda.py` (`random_swap`, `swap_word`,
//! `random_deletion`): a swap exchanges two random positions, `max(1, ⌊α·n⌋)` times; a
//! deletion drops each word with probability α and keeps one random word if none survive.
//! `eda.py` makes `⌊k/4⌋ + 1` texts per operation and keeps `k` at random; here copies
//! alternate, swap first, so `k` copies are ⌈k/2⌉ swaps and ⌊k/2⌋ deletions. Words are
//! split on white space; `eda.py` also lower-cases and strips punctuation, which the
//! tokenizer of the model handles its own way.

use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// `copies` augmented versions of `text`, seeded by `seed` (one generator per text, so a
/// text's copies do not depend on the others).
pub fn eda_copies(text: &str, copies: usize, alpha: f64, seed: u64) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..copies)
        .map(|k| {
            let words = if k % 2 == 0 {
                random_swap(&words, alpha, &mut rng)
            } else {
                random_deletion(&words, alpha, &mut rng)
            };
            words.join(" ")
        })
        .collect()
}

/// `max(1, ⌊α·n⌋)` swaps of two random positions (`eda.py`'s `swap_word` gives up after
/// three draws of the same position).
fn random_swap<'a>(words: &[&'a str], alpha: f64, rng: &mut impl Rng) -> Vec<&'a str> {
    let mut out = words.to_vec();
    if out.is_empty() {
        return out;
    }
    let swaps = ((alpha * out.len() as f64) as usize).max(1);
    for _ in 0..swaps {
        let first = rng.random_range(0..out.len());
        let mut second = first;
        let mut tries = 0;
        while second == first && tries <= 3 {
            second = rng.random_range(0..out.len());
            tries += 1;
        }
        out.swap(first, second);
    }
    out
}

/// Each word dropped with probability `p`; a one-word text is kept, and if every word was
/// dropped one random word remains.
fn random_deletion<'a>(words: &[&'a str], p: f64, rng: &mut impl Rng) -> Vec<&'a str> {
    if words.len() <= 1 {
        return words.to_vec();
    }
    let kept: Vec<&str> = words
        .iter()
        .copied()
        .filter(|_| rng.random::<f64>() > p)
        .collect();
    if kept.is_empty() {
        return vec![words[rng.random_range(0..words.len())]];
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(text: &str) -> Vec<&str> {
        let mut words: Vec<&str> = text.split_whitespace().collect();
        words.sort_unstable();
        words
    }

    #[test]
    fn swaps_keep_the_words_and_deletions_keep_their_order() {
        let text = "the tea arrived cold and the box was crushed on one side";
        let copies = eda_copies(text, 4, 0.2, 9);
        assert_eq!(copies.len(), 4);
        assert_eq!(copies, eda_copies(text, 4, 0.2, 9), "seeded");
        assert_ne!(copies, eda_copies(text, 4, 0.2, 10));
        for swapped in [&copies[0], &copies[2]] {
            assert_eq!(sorted(swapped), sorted(text));
            assert_ne!(swapped, text);
        }
        for deleted in [&copies[1], &copies[3]] {
            let words: Vec<&str> = deleted.split_whitespace().collect();
            assert!(!words.is_empty() && words.len() <= 12);
            // A subsequence of the original words.
            let mut rest = text.split_whitespace();
            assert!(words.iter().all(|w| rest.any(|o| o == *w)), "{deleted}");
        }
    }

    #[test]
    fn short_texts_stay_texts() {
        assert_eq!(eda_copies("great", 2, 0.5, 1), ["great", "great"]);
        assert_eq!(eda_copies("", 1, 0.5, 1), [""]);
        // Deleting with probability near 1 still leaves one word.
        let copy = &eda_copies("a b c d", 2, 0.999, 3)[1];
        assert_eq!(copy.split_whitespace().count(), 1);
    }
}
