//! Copies: near-duplicate rows within the training file (with their labels compared)
//! and test rows that copy a training row, exactly (equal normalised texts) or by the
//! encoder's cosine similarity.

use std::collections::{BTreeMap, HashMap};

use candle_core::Tensor;

use crate::data::duplicates::normalise_text;
use crate::error::Result;
use crate::train::data::Origin;

use super::findings::{DataFile, Finding, IssueKind};
use super::neighbours::across;

/// Pairs of rows whose normalised texts are equal (exact duplicates, whatever their
/// embeddings: two texts cut at the window can differ after it).
pub fn exact_pairs(keys: &[String]) -> Vec<(usize, usize, f32)> {
    let mut first: HashMap<&str, usize> = HashMap::new();
    let mut pairs = Vec::new();
    for (r, key) in keys.iter().enumerate() {
        match first.get(key.as_str()) {
            Some(&f) => pairs.push((f, r, 1.0)),
            None => {
                first.insert(key, r);
            }
        }
    }
    pairs
}

/// Per row, its largest similarity among the near-duplicate `pairs` it is in (0 for a
/// row in none): the similarities `within` measured already, never computed again.
pub fn paired_similarity(rows: usize, pairs: &[(usize, usize, f32)]) -> Vec<f64> {
    let mut best = vec![0.0f64; rows];
    for &(a, b, s) in pairs {
        for r in [a, b] {
            best[r] = best[r].max(s as f64);
        }
    }
    best
}

/// Rows of a near-duplicate group whose label is not the group's most common one, as
/// label findings (added to any confident learning found); with no most common label,
/// every member.
pub fn conflicting_labels(
    members: &[usize],
    targets: &[usize],
    names: &[String],
    origins: &[&Origin],
    found: &mut BTreeMap<usize, (Option<usize>, String)>,
) {
    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    for &m in members {
        *counts.entry(targets[m]).or_default() += 1;
    }
    if counts.len() < 2 {
        return;
    }
    let top = counts.values().copied().max().unwrap_or(0);
    let leaders: Vec<usize> = counts
        .iter()
        .filter(|&(_, &c)| c == top)
        .map(|(&l, _)| l)
        .collect();
    let majority = (leaders.len() == 1).then(|| leaders[0]);
    let tally = counts
        .iter()
        .map(|(&l, &c)| format!("'{}' ×{c}", names[l]))
        .collect::<Vec<_>>()
        .join(", ");
    for &m in members {
        if majority == Some(targets[m]) {
            continue;
        }
        let others: Vec<String> = members
            .iter()
            .filter(|&&o| o != m)
            .map(|&o| origins[o].line.to_string())
            .collect();
        let words = format!(
            "its near-duplicates (lines {}) disagree on the label: {tally}",
            others.join(", ")
        );
        let entry = found.entry(m).or_insert((majority, String::new()));
        if entry.0.is_none() {
            entry.0 = majority;
        }
        entry.1 = if entry.1.is_empty() {
            words
        } else {
            format!("{}; {words}", entry.1)
        };
    }
}

/// Test rows that copy a training row: exactly (normalised text) or within the threshold.
pub fn leakage(
    test: &Tensor,
    train: &Tensor,
    test_origins: &[Origin],
    train_origins: &[&Origin],
    train_keys: &[String],
    threshold: f32,
    is_text: bool,
) -> Result<Vec<Finding>> {
    let mut by_key: HashMap<&str, usize> = HashMap::new();
    if is_text {
        for (r, key) in train_keys.iter().enumerate() {
            by_key.entry(key.as_str()).or_insert(r);
        }
    }
    let near: HashMap<usize, (usize, f32)> = across(test, train, threshold)?
        .into_iter()
        .map(|(q, b, s)| (q, (b, s)))
        .collect();
    let mut found = Vec::new();
    for (q, origin) in test_origins.iter().enumerate() {
        let exact = by_key.get(normalise_text(&origin.input).as_str()).copied();
        let (row, detail, score) = match (exact, near.get(&q)) {
            (Some(r), _) => (
                r,
                format!("exact copy of training line {}", train_origins[r].line),
                1.0,
            ),
            (None, Some(&(r, s))) => (
                r,
                format!(
                    "near-copy of training line {} (cosine similarity {s:.3})",
                    train_origins[r].line
                ),
                (s as f64).min(1.0),
            ),
            (None, None) => continue,
        };
        found.push(Finding {
            kind: IssueKind::Leakage,
            file: DataFile::Test,
            line: origin.line,
            score,
            given: None,
            suggested: None,
            input: origin.input.clone(),
            detail,
            related: vec![train_origins[row].line],
            thumbnail: None,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_s_paired_similarity_is_its_closest_pair() {
        let pairs = [(0, 1, 0.97), (1, 2, 0.99), (4, 0, 0.96)];
        assert_eq!(
            paired_similarity(5, &pairs)[..2],
            [0.97f32 as f64, 0.99f32 as f64]
        );
        assert_eq!(paired_similarity(5, &pairs)[3], 0.0);
    }

    #[test]
    fn equal_texts_pair_with_their_first_copy() {
        let keys: Vec<String> = ["a", "b", "a", "a"].iter().map(|s| s.to_string()).collect();
        let pairs: Vec<(usize, usize)> = exact_pairs(&keys).iter().map(|p| (p.0, p.1)).collect();
        assert_eq!(pairs, [(0, 2), (0, 3)]);
    }

    #[test]
    fn a_near_duplicate_group_flags_the_labels_against_its_majority() {
        let origins: Vec<Origin> = (0..3)
            .map(|i| Origin {
                line: 2 + i,
                input: "same".into(),
            })
            .collect();
        let refs: Vec<&Origin> = origins.iter().collect();
        let names = vec!["neg".to_string(), "pos".to_string()];
        let mut found = BTreeMap::new();
        conflicting_labels(&[0, 1, 2], &[1, 0, 1], &names, &refs, &mut found);
        assert_eq!(found.len(), 1);
        let (suggested, detail) = &found[&1];
        assert_eq!(*suggested, Some(1));
        assert!(detail.contains("lines 2, 4"), "{detail}");
        assert!(detail.contains("'neg' ×1, 'pos' ×2"), "{detail}");
    }
}
