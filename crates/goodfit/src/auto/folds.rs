//! When a search cross-validates, and how trials scored on different folds are compared.
//!
//! **The rule.** Without a `--val` file, a search cross-validates when the validation split
//! holds fewer than [`MIN_VAL_ROWS`] rows of some class: below that, one example more or
//! less right moves that class's F1, and so macro-F1, by several points (on a 387-article
//! set with one example of the smallest class in validation, five head-only trials scored
//! 1.000 and every fine-tune 0.70–0.79). `--cv-folds K` forces K folds, `--cv-folds 0`
//! never. The training and validation rows are pooled and split into [`DEFAULT_FOLDS`]
//! stratified folds, seeded with the split seed.
//!
//! **The cost.** Head-only trials run every fold: on cached features a fold takes
//! seconds. Fine-tunes all run the same first `m` folds, `m` fixed once, when the first
//! fine-tune has run its first fold: the most of k for which [`PLANNED_FINE_TUNES`]
//! fine-tunes of that cost fit in the time that was left when it started
//! ([`fine_tune_folds`]); a later fine-tune runs only when its `m` folds are estimated to
//! fit. Counting folds while they fit in the time left made the count, and with it the
//! choice, depend on the machine's speed from run to run: the same seed on tail5 ended
//! with trials scored on 5, 4, 2 or 1 folds and test macro-F1 0.800–0.832
//! (benches/auto/README.md).
//!
//! **The comparison.** A trial that ran every fold is scored on all pooled rows; one that
//! ran the first few is scored on their rows, and that score is put on the same footing by
//! the difference a reference trial shows between those rows and all rows:
//! `score(T, F) − score(R, F) + score(R, all)`, with R the best trial that ran every fold
//! (a head-only one: the harder or easier folds count for both, so the comparison is
//! paired). The standard error is the spread of the per-fold scores over √folds.

use std::path::Path;

use crate::data::LabelMap;
use crate::decision::{predict_all, DecisionRule};
use crate::error::Result;
use crate::metrics;
use crate::model::save::INFO_FILE;
use crate::model::ClassifierInfo;
use crate::run_folder::records::Predictions;
use crate::train::cross_val::FoldsRun;
use crate::train::decide::read_json;
use crate::train::trainer::{MODEL_DIR, VAL_PREDICTIONS_FILE};

use super::select::SelectMetric;
use super::trial::TrialCv;

/// Fewer validation rows of some class than this and a search cross-validates.
pub const MIN_VAL_ROWS: usize = 20;

/// Folds when cross-validating and `--cv-folds` is not given.
pub const DEFAULT_FOLDS: usize = 5;

/// Pooled training rows above which a search keeps one validation split even when a class
/// is thin in it: a fold of a fine-tune then costs minutes, and each fold model trains on
/// less data. On fine_foods cut to 1:20 (2,730 rows, 13 minority rows in validation), the
/// cross-validated search reached test macro-F1 0.608 (two-layer fine-tunes ran one to
/// three folds each) against 0.769 for the same search on one split; on 387 and 300 rows it
/// cross-validated every fine-tune in full (benches/auto/README.md).
pub const MAX_CV_ROWS: usize = 1000;

/// Fine-tunes a cross-validated search plans room for when it fixes how many folds each
/// runs: the recipe, more layers, the remedy for their verdicts and one more.
pub const PLANNED_FINE_TUNES: usize = 4;

/// How many of `k` folds every cross-validated fine-tune runs, and why in a sentence: the
/// most for which [`PLANNED_FINE_TUNES`] fine-tunes of `fold_seconds` a fold fit in `left`
/// seconds (no limit: all `k`), at least one.
pub fn fine_tune_folds(k: usize, fold_seconds: f64, left: Option<f64>) -> (usize, String) {
    let Some(left) = left else {
        return (
            k,
            format!("fine-tunes run all {k} folds: the search has no time limit"),
        );
    };
    let per_fine_tune = left / PLANNED_FINE_TUNES as f64;
    let m = ((per_fine_tune / fold_seconds.max(1e-9)).floor() as usize).clamp(1, k.max(1));
    let why = format!(
        "fine-tunes run the first {m} of {k} folds: the first fine-tune's first fold took {fold_seconds:.0} s, and {PLANNED_FINE_TUNES} fine-tunes of {m} such folds fit in the {left:.0} s that were left when it started"
    );
    (m, why)
}

/// How a search scores its trials.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// k-fold cross-validation, and why.
    Folds(usize, String),
    /// One validation split, and why.
    Split(String),
}

/// How a search with `rows` pooled training rows scores its trials. `cv_folds` is the
/// user's `--cv-folds` (`Some(0)`: never); `val_counts` the validation split's rows per
/// class; `val_file` whether the user gave a validation file (then it is used as given).
pub fn plan(
    cv_folds: Option<usize>,
    val_file: bool,
    val_counts: &[usize],
    class_names: &[String],
    rows: usize,
) -> Plan {
    let fewest = val_counts.iter().enumerate().min_by_key(|(_, c)| **c);
    let thin = fewest.map(|(class, &count)| {
        format!(
            "the validation split holds {count} rows of '{}'",
            class_names.get(class).map_or("?", String::as_str)
        )
    });
    match cv_folds {
        Some(0..=1) => Plan::Split("one validation split, as --cv-folds 0 asks".into()),
        Some(k) => Plan::Folds(k, format!("{k}-fold cross-validation, as --cv-folds asks")),
        None if val_file => Plan::Split("the --val file, as given".into()),
        None => match (fewest, thin) {
            (Some((_, &count)), Some(thin)) if count < MIN_VAL_ROWS && rows <= MAX_CV_ROWS => {
                Plan::Folds(
                    DEFAULT_FOLDS,
                    format!(
                        "{thin}, fewer than {MIN_VAL_ROWS}: trials are scored by stratified {DEFAULT_FOLDS}-fold cross-validation over the {rows} training and validation rows"
                    ),
                )
            }
            (Some((_, &count)), Some(thin)) if count < MIN_VAL_ROWS => Plan::Split(format!(
                "one validation split: {thin}, fewer than {MIN_VAL_ROWS}, but with {rows} rows (over {MAX_CV_ROWS}) a fold of a fine-tune costs more than its steadier score gives"
            )),
            (_, thin) => Plan::Split(format!(
                "one validation split: {}, at least {MIN_VAL_ROWS}",
                thin.unwrap_or_default()
            )),
        },
    }
}

/// The cross-validation record of a trial that ran `run` of `k` folds and scored `raw` on
/// their rows, and the score to rank it by: `raw` when every fold ran, else `raw` adjusted
/// by `reference` (the index and run folder of the best trial that ran every fold), when
/// there is one.
pub(crate) fn cv_record(
    select: &SelectMetric,
    k: usize,
    run: &FoldsRun,
    raw: Option<f64>,
    reference: Option<(usize, &Path)>,
) -> Result<(TrialCv, Option<f64>)> {
    let fold_scores: Vec<Option<f64>> = run
        .folds
        .iter()
        .map(|f| select.value(f.val_loss, &f.val))
        .collect();
    let defined: Vec<f64> = fold_scores.iter().flatten().copied().collect();
    let mut record = TrialCv {
        k,
        folds: run.folds.iter().map(|f| f.fold).collect(),
        fold_scores,
        standard_error: standard_error(&defined),
        score_on_folds_run: raw,
        adjusted_by: None,
        model: run.model.clone(),
    };
    let (Some(raw), Some((index, dir)), true) = (raw, reference, run.folds.len() < k) else {
        return Ok((record, raw));
    };
    let saved = Predictions::read(&dir.join(VAL_PREDICTIONS_FILE))?;
    let info: ClassifierInfo = read_json(&dir.join(MODEL_DIR).join(INFO_FILE))?;
    let labels = info.label_map();
    let rule = info.decision.as_ref();
    if run.rows.iter().any(|&r| r >= saved.y_true.len()) {
        return Ok((record, Some(raw)));
    }
    let on_rows = score_rows(select, &saved, rule, &labels, Some(&run.rows))?;
    let on_all = score_rows(select, &saved, rule, &labels, None)?;
    match (on_rows, on_all) {
        (Some(on_rows), Some(on_all)) => {
            record.adjusted_by = Some(index);
            Ok((record, Some(adjust(raw, on_rows, on_all))))
        }
        _ => Ok((record, Some(raw))),
    }
}

/// The select score of predictions `proba` of `targets` under `rule`, on the rows `rows`
/// of them (every row when `None`).
pub(crate) fn score_rows(
    select: &SelectMetric,
    saved: &Predictions,
    rule: Option<&DecisionRule>,
    labels: &LabelMap,
    rows: Option<&[usize]>,
) -> Result<Option<f64>> {
    let all: Vec<usize>;
    let rows = match rows {
        Some(rows) => rows,
        None => {
            all = (0..saved.y_true.len()).collect();
            &all
        }
    };
    let targets: Vec<usize> = rows.iter().map(|&r| saved.y_true[r]).collect();
    let proba: Vec<Vec<f64>> = rows.iter().map(|&r| saved.proba[r].clone()).collect();
    let m = metrics::compute(&targets, &predict_all(&proba, rule), Some(&proba), labels)?;
    Ok(select.value(m.get("log_loss").unwrap_or(f64::NAN), &m))
}

/// `raw` (a trial's score on some folds' rows) on the footing of a score on all rows:
/// `raw − reference_on_those_rows + reference_on_all`.
pub fn adjust(raw: f64, reference_on_rows: f64, reference_on_all: f64) -> f64 {
    raw - reference_on_rows + reference_on_all
}

/// The standard error of a mean of per-fold scores: their sample standard deviation over
/// √folds; `None` with fewer than two folds.
pub fn standard_error(scores: &[f64]) -> Option<f64> {
    let n = scores.len();
    if n < 2 {
        return None;
    }
    let mean = scores.iter().sum::<f64>() / n as f64;
    let var = scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Some((var / n as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Label;

    fn names() -> Vec<String> {
        ["big", "small"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn fine_tunes_run_the_folds_that_leave_room_for_the_planned_fine_tunes() {
        // 800 s left, 24 s a fold: 200 s per planned fine-tune, 8 folds' worth, capped at k.
        assert_eq!(fine_tune_folds(5, 24.0, Some(800.0)).0, 5);
        // 100 s a fold: 2 folds per planned fine-tune.
        let (m, why) = fine_tune_folds(5, 100.0, Some(800.0));
        assert_eq!(m, 2);
        assert!(
            why.contains("first 2 of 5") && why.contains("100 s"),
            "{why}"
        );
        // Slower than the whole share: still one fold, never none.
        assert_eq!(fine_tune_folds(5, 1000.0, Some(800.0)).0, 1);
        assert_eq!(fine_tune_folds(5, 1000.0, Some(0.0)).0, 1);
        // No time limit: every fold.
        assert_eq!(fine_tune_folds(3, 1e6, None).0, 3);
    }

    #[test]
    fn cross_validates_when_a_class_is_thin_in_validation_and_the_data_is_small() {
        let Plan::Folds(k, why) = plan(None, false, &[26, 13], &names(), 390) else {
            panic!()
        };
        assert_eq!(k, DEFAULT_FOLDS);
        assert!(
            why.contains("13 rows of 'small'") && why.contains("390"),
            "{why}"
        );
        let split = |p: Plan| matches!(p, Plan::Split(_));
        assert!(split(plan(None, false, &[26, 20], &names(), 460)));
        let Plan::Split(why) = plan(None, false, &[260, 13], &names(), 2730) else {
            panic!()
        };
        assert!(why.contains("2730 rows (over 1000)"), "{why}");
        assert!(
            split(plan(None, true, &[26, 1], &names(), 270)),
            "a --val file is used as given"
        );
        assert!(matches!(
            plan(Some(3), true, &[260, 200], &names(), 4600),
            Plan::Folds(3, _)
        ));
        assert!(split(plan(Some(0), false, &[26, 1], &names(), 270)));
    }

    #[test]
    fn partial_scores_are_adjusted_by_the_reference_and_errors_come_from_folds() {
        // The reference scores 0.9 on the first fold's rows and 0.8 on all: that fold is
        // easy, so a trial's 0.92 there stands for 0.82 overall.
        assert!((adjust(0.92, 0.9, 0.8) - 0.82).abs() < 1e-12);
        assert_eq!(standard_error(&[0.5]), None);
        // sd of [0.7, 0.8, 0.9] is 0.1; over √3.
        let se = standard_error(&[0.7, 0.8, 0.9]).unwrap();
        assert!((se - 0.1 / 3f64.sqrt()).abs() < 1e-12, "{se}");
    }

    #[test]
    fn scores_on_rows_use_the_rule_and_the_rows() {
        let labels = LabelMap::from_ordered(vec![Label::Int(0), Label::Int(1)]);
        let select = SelectMetric::parse("accuracy").unwrap();
        let saved = Predictions::new(
            &labels,
            &[0, 1, 1, 0],
            &[
                vec![0.9, 0.1],
                vec![0.6, 0.4],
                vec![0.2, 0.8],
                vec![0.3, 0.7],
            ],
        );
        let all = score_rows(&select, &saved, None, &labels, None).unwrap();
        assert_eq!(all, Some(0.5));
        let some = score_rows(&select, &saved, None, &labels, Some(&[0, 2])).unwrap();
        assert_eq!(some, Some(1.0));
    }
}
