//! Seeded stratified splits: train/validation, and k folds.
//!
//! Every class is spread over every part where it has enough rows; where it has too few,
//! the split still goes ahead and says so in its notes.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// A train/validation split: row indices into the dataset, each list sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Rows to train on.
    pub train: Vec<usize>,
    /// Rows to validate on.
    pub validation: Vec<usize>,
    /// Classes that could not be put in both parts, in plain words.
    pub notes: Vec<String>,
}

/// The rows of each class, in a seeded random order.
fn shuffled_by_class(classes: &[usize], n_classes: usize, seed: u64) -> Result<Vec<Vec<usize>>> {
    let mut by_class = vec![Vec::new(); n_classes];
    for (row, &class) in classes.iter().enumerate() {
        by_class
            .get_mut(class)
            .ok_or_else(|| Error::Invalid(format!("class index {class} is out of range")))?
            .push(row);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for rows in &mut by_class {
        rows.shuffle(&mut rng);
    }
    Ok(by_class)
}

/// Splits rows into train and validation, keeping each class's share in both.
///
/// `classes[i]` is row `i`'s class index and `names[c]` the name of class `c` (for notes).
/// Each class with at least two rows gives `round(validation_fraction · n_c)` rows to
/// validation, at least one and at most `n_c − 1`; a class with one row stays in training
/// and a note says so.
pub fn stratified_split(
    classes: &[usize],
    names: &[String],
    validation_fraction: f64,
    seed: u64,
) -> Result<Split> {
    if !(validation_fraction > 0.0 && validation_fraction < 1.0) {
        return Err(Error::Invalid(format!(
            "the validation fraction must be between 0 and 1 (exclusive), not {validation_fraction}"
        )));
    }
    let by_class = shuffled_by_class(classes, names.len(), seed)?;
    let mut split = Split {
        train: Vec::new(),
        validation: Vec::new(),
        notes: Vec::new(),
    };
    for (class, rows) in by_class.iter().enumerate() {
        let n = rows.len();
        if n == 0 {
            continue;
        }
        if n == 1 {
            split.notes.push(format!(
                "class '{}' has 1 row: it stays in training and the validation set has none of it",
                names[class]
            ));
            split.train.extend(rows);
            continue;
        }
        let n_val = ((validation_fraction * n as f64).round() as usize).clamp(1, n - 1);
        split.validation.extend(&rows[..n_val]);
        split.train.extend(&rows[n_val..]);
    }
    if split.validation.is_empty() {
        return Err(Error::Invalid(
            "no class has two or more rows, so there is nothing to validate on".into(),
        ));
    }
    split.train.sort_unstable();
    split.validation.sort_unstable();
    Ok(split)
}

/// k stratified folds: row indices, each fold sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folds {
    /// The rows held out in each fold; every row is in exactly one fold.
    pub folds: Vec<Vec<usize>>,
    /// Classes with fewer rows than folds, in plain words.
    pub notes: Vec<String>,
}

impl Folds {
    /// The training rows for fold `k`: every row not held out in it.
    pub fn train_rows(&self, k: usize) -> Vec<usize> {
        let mut rows: Vec<usize> = self
            .folds
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != k)
            .flat_map(|(_, fold)| fold.iter().copied())
            .collect();
        rows.sort_unstable();
        rows
    }
}

/// Splits rows into `k` folds that each hold about `n_c / k` rows of every class.
///
/// Rows are dealt out class by class, continuing where the previous class stopped, so fold
/// sizes differ by at most one. A class with fewer than `k` rows is missing from some folds;
/// a note says which.
pub fn stratified_kfold(classes: &[usize], names: &[String], k: usize, seed: u64) -> Result<Folds> {
    if k < 2 {
        return Err(Error::Invalid(format!(
            "k-fold needs at least 2 folds, not {k}"
        )));
    }
    if k > classes.len() {
        return Err(Error::Invalid(format!(
            "{k} folds need at least {k} rows; there are {}",
            classes.len()
        )));
    }
    let by_class = shuffled_by_class(classes, names.len(), seed)?;
    let mut folds = vec![Vec::new(); k];
    let mut notes = Vec::new();
    let mut next = 0;
    for (class, rows) in by_class.iter().enumerate() {
        if !rows.is_empty() && rows.len() < k {
            notes.push(format!(
                "class '{}' has {} rows, fewer than the {k} folds: {} folds have none of it",
                names[class],
                rows.len(),
                k - rows.len()
            ));
        }
        for &row in rows {
            folds[next].push(row);
            next = (next + 1) % k;
        }
    }
    for fold in &mut folds {
        fold.sort_unstable();
    }
    Ok(Folds { folds, notes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|c| format!("c{c}")).collect()
    }

    #[test]
    fn split_keeps_class_shares_and_is_seeded() {
        // 65/35 like fine_foods.
        let classes: Vec<usize> = (0..200).map(|i| usize::from(i % 20 >= 13)).collect();
        let split = stratified_split(&classes, &names(2), 0.2, 7).unwrap();
        let val_minority = split
            .validation
            .iter()
            .filter(|&&i| classes[i] == 1)
            .count();
        assert_eq!(split.validation.len(), 40);
        assert_eq!(val_minority, 14); // round(0.2 * 70)
        assert_eq!(split.train.len() + split.validation.len(), 200);
        assert!(split.notes.is_empty());
        assert_eq!(
            split,
            stratified_split(&classes, &names(2), 0.2, 7).unwrap()
        );
        assert_ne!(
            split,
            stratified_split(&classes, &names(2), 0.2, 8).unwrap()
        );
    }

    #[test]
    fn tiny_classes_are_kept_in_both_parts_or_named() {
        let classes = vec![0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2];
        let split = stratified_split(&classes, &names(3), 0.1, 0).unwrap();
        // Class 1 (2 rows) gets one row in each part; class 2 (1 row) stays in training.
        assert_eq!(
            split
                .validation
                .iter()
                .filter(|&&i| classes[i] == 1)
                .count(),
            1
        );
        assert!(split.train.contains(&10));
        assert_eq!(split.notes.len(), 1);
        assert!(
            split.notes[0].contains("'c2' has 1 row"),
            "{:?}",
            split.notes
        );
    }

    #[test]
    fn bad_fractions_are_refused() {
        for fraction in [0.0, 1.0, -0.5, f64::NAN] {
            assert!(stratified_split(&[0, 1, 0, 1], &names(2), fraction, 0).is_err());
        }
    }

    #[test]
    fn folds_cover_every_row_once_and_balance_classes() {
        let classes: Vec<usize> = (0..103).map(|i| usize::from(i % 4 == 0)).collect();
        let folds = stratified_kfold(&classes, &names(2), 5, 3).unwrap();
        let mut all: Vec<usize> = folds.folds.concat();
        all.sort_unstable();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
        let sizes: Vec<usize> = folds.folds.iter().map(Vec::len).collect();
        assert!(
            sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
            "{sizes:?}"
        );
        for fold in &folds.folds {
            let minority = fold.iter().filter(|&&i| classes[i] == 1).count();
            assert!((5..=6).contains(&minority), "26 minority rows over 5 folds");
        }
        assert_eq!(folds.train_rows(0).len(), 103 - folds.folds[0].len());
    }

    #[test]
    fn folds_name_classes_smaller_than_k() {
        let classes = vec![0, 0, 0, 0, 0, 0, 1, 1];
        let folds = stratified_kfold(&classes, &names(2), 3, 0).unwrap();
        assert_eq!(folds.notes.len(), 1);
        assert!(folds.notes[0].contains("'c1' has 2 rows"));
        assert!(stratified_kfold(&classes, &names(2), 1, 0).is_err());
        assert!(stratified_kfold(&classes, &names(2), 9, 0).is_err());
    }
}
