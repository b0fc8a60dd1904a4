//! Which classes a sampler resamples, and to how many rows: imbalanced-learn's
//! `sampling_strategy`, resolved as its `check_sampling_strategy` does.

use std::collections::{BTreeMap, BTreeSet};

use crate::data::{Label, LabelMap};
use crate::error::{Error, Result};

use super::Names;

/// What kind of sampler a strategy is resolved for; the same words mean different targets
/// for each (imbalanced-learn's `sampling_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplingType {
    /// Adds rows (random over-sampling, SMOTE, ADASYN).
    OverSampling,
    /// Removes rows down to a count (random under-sampling, NearMiss).
    UnderSampling,
    /// Removes rows that a rule singles out, however many (Tomek links, ENN).
    CleanSampling,
}

/// imbalanced-learn's `sampling_strategy`: the classes to resample and their targets.
///
/// "Majority" and "minority" are the classes with the most and the fewest rows; on a tie,
/// the one with the lower index (as `max`/`min` over imbalanced-learn's sorted counts).
#[derive(Debug, Clone, PartialEq)]
pub enum SamplingStrategy {
    /// Over-samplers: every class but the majority; under-samplers and cleaners: every class
    /// but the minority.
    Auto,
    /// The minority class only (over-samplers only).
    Minority,
    /// Every class but the minority.
    NotMinority,
    /// Every class but the majority.
    NotMajority,
    /// Every class.
    All,
    /// The majority class only (under-samplers and cleaners only).
    Majority,
    /// Two classes only: over-samplers grow the minority to `ratio × majority` rows,
    /// under-samplers cut the majority to `minority / ratio` rows; in (0, 1].
    Ratio(f64),
    /// The number of rows each listed class should end with (class index → rows):
    /// at least its current count for over-samplers, at most for under-samplers.
    Counts(BTreeMap<usize, usize>),
    /// The classes a cleaner may remove rows from (imbalanced-learn's list form).
    Classes(Vec<usize>),
}

impl SamplingStrategy {
    /// Reads a strategy from the command line: `auto`, `minority`, `majority`, `all`,
    /// `not-minority`, `not-majority` (or with a space or `_`), a ratio such as `0.5`,
    /// per-class counts such as `neg=300,pos=300`, or (for cleaners) a list of classes
    /// such as `neg,pos`. Class names are looked up in `labels`.
    pub fn parse(text: &str, labels: &LabelMap) -> Result<SamplingStrategy> {
        let known = || {
            labels
                .labels()
                .iter()
                .map(Label::as_text)
                .collect::<Vec<_>>()
                .join(", ")
        };
        Self::parse_with(text, |name| labels.index_of(&Label::parse(name))).map_err(|e| match e {
            Error::Invalid(message) if message.contains("is not a class") => {
                Error::Invalid(format!("{message} (the classes are: {})", known()))
            }
            other => other,
        })
    }

    /// [`SamplingStrategy::parse`] with any mapping from class names to class indices.
    pub fn parse_with(
        text: &str,
        lookup: impl Fn(&str) -> Option<usize>,
    ) -> Result<SamplingStrategy> {
        let trimmed = text.trim();
        let keyword = trimmed.to_ascii_lowercase().replace(['-', '_'], " ");
        let strategy = match keyword.as_str() {
            "auto" => SamplingStrategy::Auto,
            "minority" => SamplingStrategy::Minority,
            "majority" => SamplingStrategy::Majority,
            "not minority" => SamplingStrategy::NotMinority,
            "not majority" => SamplingStrategy::NotMajority,
            "all" => SamplingStrategy::All,
            _ => {
                if let Ok(ratio) = trimmed.parse::<f64>() {
                    return Ok(SamplingStrategy::Ratio(ratio));
                }
                let class = |name: &str| {
                    lookup(name).ok_or_else(|| {
                        Error::Invalid(format!(
                            "sampling strategy '{trimmed}': '{name}' is not a class"
                        ))
                    })
                };
                if trimmed.contains('=') {
                    let mut counts = BTreeMap::new();
                    for item in trimmed.split(',') {
                        let (name, count) = item.split_once('=').ok_or_else(|| {
                            Error::Invalid(format!(
                                "sampling strategy '{trimmed}': '{item}' is not CLASS=COUNT"
                            ))
                        })?;
                        let count = count.trim().parse::<usize>().map_err(|_| {
                            Error::Invalid(format!(
                                "sampling strategy '{trimmed}': '{}' is not a number of rows",
                                count.trim()
                            ))
                        })?;
                        if counts.insert(class(name.trim())?, count).is_some() {
                            return Err(Error::Invalid(format!(
                                "sampling strategy '{trimmed}': class '{}' is given twice",
                                name.trim()
                            )));
                        }
                    }
                    SamplingStrategy::Counts(counts)
                } else {
                    let classes = trimmed
                        .split(',')
                        .map(|name| class(name.trim()))
                        .collect::<Result<Vec<_>>>()?;
                    SamplingStrategy::Classes(classes)
                }
            }
        };
        Ok(strategy)
    }

    /// The resolved targets: class index → rows to generate (over-sampling), rows to keep
    /// (under-sampling), or, for cleaning, the minority count (only the keys matter).
    ///
    /// `counts[c]` is the number of rows of class `c`; classes with no rows take no part,
    /// as they are absent from imbalanced-learn's `y`.
    pub fn resolve(&self, counts: &[usize], kind: SamplingType) -> Result<BTreeMap<usize, usize>> {
        self.resolve_named(counts, kind, &Names::default())
    }

    /// [`SamplingStrategy::resolve`], naming classes in messages.
    pub(crate) fn resolve_named(
        &self,
        counts: &[usize],
        kind: SamplingType,
        names: &Names,
    ) -> Result<BTreeMap<usize, usize>> {
        let present: Vec<usize> = (0..counts.len()).filter(|&c| counts[c] > 0).collect();
        if present.len() < 2 {
            return Err(Error::Invalid(format!(
                "resampling needs at least 2 classes, but the data has {}",
                match present.first() {
                    Some(&c) => format!("only {}", names.class(c)),
                    None => "none".to_string(),
                }
            )));
        }
        // The first class with the most (fewest) rows, as Python's max/min over sorted keys.
        let majority = *present.iter().rev().max_by_key(|&&c| counts[c]).unwrap();
        let minority = *present.iter().min_by_key(|&&c| counts[c]).unwrap();
        let n_majority = counts[majority];
        let n_minority = counts[minority];
        let select = |keep: &dyn Fn(usize) -> bool| -> BTreeMap<usize, usize> {
            present
                .iter()
                .filter(|&&c| keep(c))
                .map(|&c| match kind {
                    SamplingType::OverSampling => (c, n_majority - counts[c]),
                    SamplingType::UnderSampling | SamplingType::CleanSampling => (c, n_minority),
                })
                .collect()
        };
        let over = kind == SamplingType::OverSampling;
        Ok(match self {
            SamplingStrategy::Auto if over => select(&|c| c != majority),
            SamplingStrategy::Auto => select(&|c| c != minority),
            SamplingStrategy::NotMajority => select(&|c| c != majority),
            SamplingStrategy::NotMinority => select(&|c| c != minority),
            SamplingStrategy::All => select(&|_| true),
            SamplingStrategy::Minority if over => select(&|c| c == minority),
            SamplingStrategy::Minority => {
                return Err(Error::Invalid(
                    "sampling strategy 'minority' cannot be used to under-sample or clean (use it to over-sample)".into(),
                ))
            }
            SamplingStrategy::Majority if over => {
                return Err(Error::Invalid(
                    "sampling strategy 'majority' cannot be used to over-sample (use it to under-sample or clean)".into(),
                ))
            }
            SamplingStrategy::Majority => select(&|c| c == majority),
            SamplingStrategy::Ratio(ratio) => {
                return resolve_ratio(*ratio, counts, &present, kind, (majority, minority));
            }
            SamplingStrategy::Counts(targets) => {
                check_present(targets.keys().copied(), counts, names)?;
                let mut resolved = BTreeMap::new();
                for (&c, &wanted) in targets {
                    let have = counts[c];
                    match kind {
                        SamplingType::OverSampling if wanted < have => {
                            return Err(Error::Invalid(format!(
                                "over-sampling cannot shrink a class: {} has {have} rows and {wanted} are asked",
                                names.class(c)
                            )))
                        }
                        SamplingType::OverSampling => resolved.insert(c, wanted - have),
                        SamplingType::UnderSampling if wanted > have => {
                            return Err(Error::Invalid(format!(
                                "under-sampling cannot grow a class: {} has {have} rows and {wanted} are asked",
                                names.class(c)
                            )))
                        }
                        SamplingType::UnderSampling => resolved.insert(c, wanted),
                        SamplingType::CleanSampling => {
                            return Err(Error::Invalid(
                                "cleaning methods remove the rows their rule finds and take no row counts; give the classes to clean instead (e.g. neg,pos)".into(),
                            ))
                        }
                    };
                }
                resolved
            }
            SamplingStrategy::Classes(classes) => {
                if kind != SamplingType::CleanSampling {
                    return Err(Error::Invalid(
                        "a list of classes is only for cleaning methods (tomek, enn); over- and under-samplers need CLASS=COUNT pairs or a keyword".into(),
                    ));
                }
                check_present(classes.iter().copied(), counts, names)?;
                classes.iter().map(|&c| (c, n_minority)).collect()
            }
        })
    }
}

/// A float strategy, for two classes only.
fn resolve_ratio(
    ratio: f64,
    counts: &[usize],
    present: &[usize],
    kind: SamplingType,
    (majority, minority): (usize, usize),
) -> Result<BTreeMap<usize, usize>> {
    if !(ratio > 0.0 && ratio <= 1.0) {
        return Err(Error::Invalid(format!(
            "a sampling ratio must be in (0, 1], not {ratio}"
        )));
    }
    if present.len() != 2 {
        return Err(Error::Invalid(format!(
            "a sampling ratio needs exactly 2 classes, and the data has {}; give per-class counts instead (CLASS=COUNT,...)",
            present.len()
        )));
    }
    match kind {
        SamplingType::OverSampling => {
            let mut targets = BTreeMap::new();
            for &c in present.iter().filter(|&&c| c != majority) {
                // Python's int() truncates toward zero.
                let wanted = (counts[majority] as f64 * ratio - counts[c] as f64).trunc();
                if wanted <= 0.0 {
                    return Err(Error::Invalid(format!(
                        "ratio {ratio} asks for at most {} rows of the minority class, which already has {}: over-sampling would have to remove rows; raise the ratio",
                        (counts[majority] as f64 * ratio).trunc(),
                        counts[c]
                    )));
                }
                targets.insert(c, wanted as usize);
            }
            Ok(targets)
        }
        SamplingType::UnderSampling => {
            let mut targets = BTreeMap::new();
            for &c in present.iter().filter(|&&c| c != minority) {
                let wanted = (counts[minority] as f64 / ratio).trunc() as usize;
                if wanted > counts[c] {
                    return Err(Error::Invalid(format!(
                        "ratio {ratio} asks for {wanted} rows of the majority class, which has only {}: under-sampling would have to add rows; raise the ratio",
                        counts[c]
                    )));
                }
                targets.insert(c, wanted);
            }
            Ok(targets)
        }
        SamplingType::CleanSampling => Err(Error::Invalid(
            "cleaning methods (tomek, enn) take no sampling ratio".into(),
        )),
    }
}

/// Every class named must have rows.
fn check_present(
    classes: impl Iterator<Item = usize>,
    counts: &[usize],
    names: &Names,
) -> Result<()> {
    let absent: BTreeSet<usize> = classes
        .filter(|&c| counts.get(c).copied().unwrap_or(0) == 0)
        .collect();
    if absent.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = absent.iter().map(|&c| names.class(c)).collect();
    Err(Error::Invalid(format!(
        "the sampling strategy names {} with no rows in the data",
        list.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use SamplingType::*;

    fn map(pairs: &[(usize, usize)]) -> BTreeMap<usize, usize> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn auto_means_not_majority_for_over_and_not_minority_for_under_and_clean() {
        let counts = [150, 40, 12];
        assert_eq!(
            SamplingStrategy::Auto
                .resolve(&counts, OverSampling)
                .unwrap(),
            map(&[(1, 110), (2, 138)])
        );
        assert_eq!(
            SamplingStrategy::Auto
                .resolve(&counts, UnderSampling)
                .unwrap(),
            map(&[(0, 12), (1, 12)])
        );
        assert_eq!(
            SamplingStrategy::Auto
                .resolve(&counts, CleanSampling)
                .unwrap(),
            map(&[(0, 12), (1, 12)])
        );
        assert_eq!(
            SamplingStrategy::All
                .resolve(&counts, OverSampling)
                .unwrap(),
            map(&[(0, 0), (1, 110), (2, 138)])
        );
        assert_eq!(
            SamplingStrategy::All
                .resolve(&counts, UnderSampling)
                .unwrap(),
            map(&[(0, 12), (1, 12), (2, 12)])
        );
        assert_eq!(
            SamplingStrategy::Minority
                .resolve(&counts, OverSampling)
                .unwrap(),
            map(&[(2, 138)])
        );
        assert_eq!(
            SamplingStrategy::Majority
                .resolve(&counts, UnderSampling)
                .unwrap(),
            map(&[(0, 12)])
        );
        assert_eq!(
            SamplingStrategy::NotMinority
                .resolve(&counts, OverSampling)
                .unwrap(),
            map(&[(0, 0), (1, 110)])
        );
        assert_eq!(
            SamplingStrategy::NotMajority
                .resolve(&counts, UnderSampling)
                .unwrap(),
            map(&[(1, 12), (2, 12)])
        );
        assert!(SamplingStrategy::Minority
            .resolve(&counts, UnderSampling)
            .is_err());
        assert!(SamplingStrategy::Majority
            .resolve(&counts, OverSampling)
            .is_err());
    }

    #[test]
    fn ties_pick_the_lowest_class_and_empty_classes_take_no_part() {
        // Classes 0 and 2 tie for the majority: class 0 is it. Class 3 has no rows.
        let counts = [10, 4, 10, 0, 4];
        assert_eq!(
            SamplingStrategy::Auto
                .resolve(&counts, OverSampling)
                .unwrap(),
            map(&[(1, 6), (2, 0), (4, 6)])
        );
        assert_eq!(
            SamplingStrategy::Auto
                .resolve(&counts, UnderSampling)
                .unwrap(),
            map(&[(0, 4), (2, 4), (4, 4)])
        );
    }

    #[test]
    fn ratios_are_for_two_classes_and_truncate_like_python_int() {
        let counts = [100, 10];
        // int(100 * 0.55 - 10) = 45; int(10 / 0.3) = 33.
        assert_eq!(
            SamplingStrategy::Ratio(0.55)
                .resolve(&counts, OverSampling)
                .unwrap(),
            map(&[(1, 45)])
        );
        assert_eq!(
            SamplingStrategy::Ratio(0.3)
                .resolve(&counts, UnderSampling)
                .unwrap(),
            map(&[(0, 33)])
        );
        let message = |r: Result<BTreeMap<usize, usize>>| r.unwrap_err().to_string();
        assert!(
            message(SamplingStrategy::Ratio(0.05).resolve(&counts, OverSampling))
                .contains("raise the ratio")
        );
        assert!(
            message(SamplingStrategy::Ratio(0.05).resolve(&counts, UnderSampling))
                .contains("raise the ratio")
        );
        assert!(
            message(SamplingStrategy::Ratio(1.5).resolve(&counts, OverSampling)).contains("(0, 1]")
        );
        assert!(
            message(SamplingStrategy::Ratio(0.5).resolve(&[5, 4, 3], OverSampling))
                .contains("exactly 2 classes")
        );
        assert!(SamplingStrategy::Ratio(0.5)
            .resolve(&counts, CleanSampling)
            .is_err());
    }

    #[test]
    fn counts_are_targets_checked_against_the_direction() {
        let counts = [150, 40, 12];
        let wanted = SamplingStrategy::Counts(map(&[(1, 100), (2, 12)]));
        assert_eq!(
            wanted.resolve(&counts, OverSampling).unwrap(),
            map(&[(1, 60), (2, 0)])
        );
        let under = SamplingStrategy::Counts(map(&[(0, 50)]));
        assert_eq!(
            under.resolve(&counts, UnderSampling).unwrap(),
            map(&[(0, 50)])
        );
        let names = Names(vec!["neg".into(), "mid".into(), "pos".into()]);
        let err = wanted
            .resolve_named(&counts, UnderSampling, &names)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("class 'mid' has 40 rows and 100 are asked"),
            "{err}"
        );
        let err = under
            .resolve(&counts, OverSampling)
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot shrink"), "{err}");
        assert!(under.resolve(&counts, CleanSampling).is_err());
        let absent = SamplingStrategy::Counts(map(&[(5, 3)]));
        assert!(absent
            .resolve(&counts, OverSampling)
            .unwrap_err()
            .to_string()
            .contains("no rows"));
        let classes = SamplingStrategy::Classes(vec![0, 2]);
        assert_eq!(
            classes.resolve(&counts, CleanSampling).unwrap(),
            map(&[(0, 12), (2, 12)])
        );
        assert!(classes.resolve(&counts, OverSampling).is_err());
    }

    #[test]
    fn one_class_is_not_enough() {
        let err = SamplingStrategy::Auto
            .resolve(&[0, 7], OverSampling)
            .unwrap_err()
            .to_string();
        assert!(err.contains("at least 2 classes"), "{err}");
    }

    #[test]
    fn parsing_keywords_ratios_counts_and_class_lists() {
        let labels = LabelMap::from_labels(&[Label::parse("neg"), Label::parse("pos")]);
        let parse = |t: &str| SamplingStrategy::parse(t, &labels);
        assert_eq!(parse("auto").unwrap(), SamplingStrategy::Auto);
        assert_eq!(
            parse("not-minority").unwrap(),
            SamplingStrategy::NotMinority
        );
        assert_eq!(
            parse("not minority").unwrap(),
            SamplingStrategy::NotMinority
        );
        assert_eq!(
            parse("Not_Majority").unwrap(),
            SamplingStrategy::NotMajority
        );
        assert_eq!(parse("0.5").unwrap(), SamplingStrategy::Ratio(0.5));
        assert_eq!(
            parse("neg=300, pos=300").unwrap(),
            SamplingStrategy::Counts(map(&[(0, 300), (1, 300)]))
        );
        assert_eq!(parse("pos").unwrap(), SamplingStrategy::Classes(vec![1]));
        let err = parse("neu=3").unwrap_err().to_string();
        assert!(
            err.contains("'neu' is not a class (the classes are: neg, pos)"),
            "{err}"
        );
        assert!(parse("neg=lots").is_err());
        assert!(parse("neg=1,neg=2").is_err());
        let ints = LabelMap::from_labels(&[Label::Int(0), Label::Int(1)]);
        assert_eq!(
            SamplingStrategy::parse("0=5,1=7", &ints).unwrap(),
            SamplingStrategy::Counts(map(&[(0, 5), (1, 7)]))
        );
    }
}
