//! One audit of a labelled file: the frozen encoder's features once, out-of-fold
//! probabilities from heads trained on them, and every kind of finding.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::data::duplicates::normalise_text;
use crate::data::stratified_kfold;
use crate::error::{Error, Result};
use crate::model::image_transform::ImageTransform;
use crate::model::{Preprocessor, TrainLayers};
use crate::train::cross_val::{out_of_fold_proba, Pool};
use crate::train::data::Origin;
use crate::train::frozen::Precomputed;
use crate::train::session::Session;
use crate::train::{Observer, TrainConfig};

use super::confident::find_label_issues;
use super::copies::{conflicting_labels, exact_pairs, leakage, paired_similarity};
use super::findings::{Counts, DataFile, Finding, IssueKind, RowScores, THUMBNAILS};
use super::neighbours::{groups, normalised, within};
use super::outliers::{fence, quantile};
use super::run_predictions::run_probabilities;
use super::text_checks::text_problems;

/// The version of `audit.json`'s layout.
pub const AUDIT_FORMAT: u32 = 1;

/// What to audit, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditConfig {
    /// The pretrained model (a folder).
    pub model: String,
    /// The labelled file to audit.
    pub data: PathBuf,
    /// A test file, checked for rows leaked from `data`.
    pub test: Option<PathBuf>,
    /// A `goodfit train` run folder on `data`: its own out-of-sample predictions of the
    /// rows it held out are averaged with the heads' out-of-fold probabilities.
    pub run: Option<PathBuf>,
    /// The run's share of the average, in [0, 1] (1: the run's predictions alone for the
    /// rows it predicts).
    pub run_weight: f64,
    /// The text (or picture path) column.
    pub text_col: String,
    /// The label column.
    pub label_col: String,
    /// Folds of the out-of-fold probabilities.
    pub folds: usize,
    /// Times the folds are drawn anew (seed, seed + 1, …); each row's probabilities are
    /// the mean over the repeats.
    pub repeats: usize,
    /// Seeds the folds and the heads.
    pub seed: u64,
    /// Tokens per text.
    pub max_len: usize,
    /// Cosine similarity from which two rows are near-duplicates.
    pub duplicate_threshold: f32,
    /// Neighbours whose mean distance scores a row's outlyingness.
    pub neighbours: usize,
    /// A row is out of place when its neighbour distance is above the third quartile by
    /// more than this many interquartile ranges (Tukey's fence; 3 is his "far out").
    pub outlier_fence: f64,
}

impl AuditConfig {
    /// An audit of `data` with `model` and the defaults.
    pub fn new(model: impl Into<String>, data: impl Into<PathBuf>) -> AuditConfig {
        AuditConfig {
            model: model.into(),
            data: data.into(),
            test: None,
            run: None,
            run_weight: 0.5,
            text_col: "text".into(),
            label_col: "label".into(),
            folds: 5,
            repeats: 5,
            seed: 42,
            max_len: 128,
            duplicate_threshold: 0.95,
            neighbours: 10,
            outlier_fence: 3.0,
        }
    }

    /// Refuses settings no audit can run with, naming the flag.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Invalid(m));
        if self.folds < 2 {
            return bad(format!("--folds {}: at least 2", self.folds));
        }
        if self.repeats == 0 {
            return bad("--repeats 0: at least 1".into());
        }
        if !(self.duplicate_threshold > 0.0 && self.duplicate_threshold <= 1.0) {
            return bad(format!(
                "--duplicate-threshold {}: a cosine similarity in (0, 1]",
                self.duplicate_threshold
            ));
        }
        if !(0.0..=1.0).contains(&self.run_weight) {
            return bad(format!(
                "--run-weight {}: the run's share of the average, from 0 to 1",
                self.run_weight
            ));
        }
        if self.neighbours == 0 {
            return bad("--neighbours 0: at least 1".into());
        }
        if !(self.outlier_fence.is_finite() && self.outlier_fence >= 0.0) {
            return bad(format!(
                "--outlier-fence {}: a number of interquartile ranges, 0 or more",
                self.outlier_fence
            ));
        }
        Ok(())
    }

    /// The head-only training whose out-of-fold probabilities confident learning reads:
    /// the frozen encoder's pooled features, a linear head, plain cross-entropy (the
    /// per-class thresholds of confident learning allow for imbalance, and they expect
    /// probabilities that follow the class frequencies).
    pub fn head(&self) -> TrainConfig {
        TrainConfig {
            model: self.model.clone(),
            train: self.data.clone(),
            test: self.test.clone(),
            text_col: self.text_col.clone(),
            label_col: self.label_col.clone(),
            train_layers: TrainLayers::Top(0),
            epochs: HEAD_EPOCHS,
            patience: 3,
            head_lr: HEAD_LR,
            seed: self.seed,
            max_len: self.max_len,
            default_remedy: false,
            ..TrainConfig::default()
        }
    }
}

/// Thumbnails of the pictures of the first [`THUMBNAILS`] findings of each kind: training
/// rows found by line among `origins` (the pool's, in the order of `encoded`), test rows
/// among the session's test examples.
fn add_thumbnails(
    findings: &mut [Finding],
    session: &Session,
    encoded: &[crate::model::Example],
    origins: &[&Origin],
) -> Result<()> {
    let train: HashMap<u64, usize> = origins
        .iter()
        .enumerate()
        .map(|(r, o)| (o.line, r))
        .collect();
    let test: HashMap<u64, usize> = session
        .data
        .origins
        .test
        .iter()
        .enumerate()
        .map(|(r, o)| (o.line, r))
        .collect();
    let mut shown: HashMap<IssueKind, usize> = HashMap::new();
    for finding in findings.iter_mut() {
        let count = shown.entry(finding.kind).or_default();
        if *count >= THUMBNAILS {
            continue;
        }
        let example = match finding.file {
            DataFile::Train => train.get(&finding.line).map(|&r| &encoded[r]),
            DataFile::Test => test
                .get(&finding.line)
                .zip(session.data.test.as_ref())
                .map(|(&r, t)| &t.encoded[r]),
        };
        if let Some(picture) = example.and_then(|e| e.picture()) {
            finding.thumbnail = Some(ImageTransform::thumbnail(picture, THUMBNAIL_SIDE)?);
            *count += 1;
        }
    }
    Ok(())
}

/// The longer side of a finding's thumbnail, in pixels.
const THUMBNAIL_SIDE: u32 = 64;

/// What the heads' fits tell the user: nothing per epoch or per fit (an audit runs
/// `folds × repeats` of them in seconds), only whether to go on.
struct FoldFits<'a>(&'a dyn Observer);

impl Observer for FoldFits<'_> {
    fn keep_going(&self) -> bool {
        self.0.keep_going()
    }
    fn stop_now(&self) -> bool {
        self.0.stop_now()
    }
}

/// Epochs of each fold's head (early stopping on the held-out fold ends most sooner).
pub const HEAD_EPOCHS: usize = 20;
/// The head's learning rate: passes over cached features cost milliseconds, so a high
/// rate and early stopping rather than many epochs.
pub const HEAD_LR: f64 = 1e-2;

/// How good the out-of-fold probabilities are, which bounds how far the label findings
/// can be trusted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    /// What made them.
    pub how: String,
    /// Out-of-fold accuracy against the given labels.
    pub accuracy: f64,
    /// Out-of-fold macro-F1 against the given labels.
    pub macro_f1: f64,
}

/// The settings an audit ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Folds of the out-of-fold probabilities.
    pub folds: usize,
    /// Repeats of the folds.
    pub repeats: usize,
    /// The seed.
    pub seed: u64,
    /// Near-duplicate cosine similarity.
    pub duplicate_threshold: f32,
    /// Neighbours of the outlier score.
    pub neighbours: usize,
    /// Tukey's fence, in interquartile ranges.
    pub outlier_fence: f64,
    /// The neighbour distance above which a row is out of place.
    pub outlier_distance: f64,
}

/// An audit's results: `audit.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Audit {
    /// [`AUDIT_FORMAT`].
    pub format: u32,
    /// The model.
    pub model: String,
    /// The audited file.
    pub data: PathBuf,
    /// The test file, if any.
    pub test: Option<PathBuf>,
    /// The classes, in index order.
    pub classes: Vec<String>,
    /// Training rows audited.
    pub rows: usize,
    /// Lines of the training file skipped as empty texts (also findings).
    pub empty_lines: Vec<u64>,
    /// The settings.
    pub settings: Settings,
    /// The out-of-fold probabilities' quality.
    pub probe: Probe,
    /// The calibrated confident joint, `[given][true]`.
    pub confident_joint: Vec<Vec<i64>>,
    /// Findings by kind.
    pub counts: Counts,
    /// Every finding, by kind, the worst first.
    pub findings: Vec<Finding>,
    /// Per training row, every score (`issues.csv`).
    pub row_scores: Vec<RowScores>,
    /// Seconds taken.
    pub seconds: f64,
}

/// Audits `config.data`.
pub fn audit(config: &AuditConfig, observer: &dyn Observer) -> Result<Audit> {
    config.validate()?;
    let start = Instant::now();
    if let Some(run) = &config.run {
        // A run that cannot be matched is refused before the encoder runs.
        if !run.join(crate::run_folder::VAL_PREDICTIONS_FILE).is_file() {
            return Err(Error::Invalid(format!(
                "--run {}: not a finished goodfit train run folder (no validation predictions)",
                run.display()
            )));
        }
    }
    let head = config.head().check()?;
    let mut session = Session::open(&head, observer)?;
    // The heads learn from L2-normalised features (the sentence embedding
    // all-MiniLM-L6-v2 is trained to give; cosine similarity below reads the same vectors):
    // on fine_foods with 10% of its labels flipped, five noise seeds, this found more
    // flipped rows at a higher precision than the raw pooled features did
    // (benches/audit/README.md).
    if let Some(cache) = &mut session.cache {
        for set in [&mut cache.train, &mut cache.val] {
            if let Precomputed::Features(features) = set {
                *features = normalised(features)?;
            }
        }
    }
    let names: Vec<String> = session.data.labels.names();
    let pool = Pool::of(&session)?;
    let origins: Vec<&Origin> = session
        .data
        .origins
        .train
        .iter()
        .chain(&session.data.origins.val)
        .collect();
    let targets = &pool.examples.targets;
    let Some(Precomputed::Features(features)) = &pool.cached else {
        return Err(Error::Invalid(
            "the audit needs the frozen encoder's pooled features".into(),
        ));
    };
    observer.message(&format!(
        "out-of-fold probabilities: {} folds × {} repeats of a head on the frozen encoder's features",
        config.folds, config.repeats
    ));
    let mut proba = vec![vec![0.0; names.len()]; targets.len()];
    for repeat in 0..config.repeats {
        let folds = stratified_kfold(
            targets,
            &names,
            config.folds,
            config.seed.wrapping_add(repeat as u64),
        )?;
        if repeat == 0 {
            for note in &folds.notes {
                observer.message(note);
            }
        }
        for (sum, p) in
            proba
                .iter_mut()
                .zip(out_of_fold_proba(&session, &folds, &FoldFits(observer))?)
        {
            for (s, v) in sum.iter_mut().zip(p) {
                *s += v / config.repeats as f64;
            }
        }
    }
    let mut from_run = 0;
    if let Some(run) = &config.run {
        let by_line = run_probabilities(run, &config.data, &names)?;
        for (r, origin) in origins.iter().enumerate() {
            if let Some(p) = by_line.get(&origin.line) {
                let w = config.run_weight;
                for (mine, theirs) in proba[r].iter_mut().zip(p) {
                    *mine = (1.0 - w) * *mine + w * theirs;
                }
                from_run += 1;
            }
        }
        observer.message(&format!(
            "{from_run} rows' probabilities averaged with the fine-tuned run's own predictions of them ({})",
            run.display()
        ));
    }
    let issues = find_label_issues(targets, &proba, names.len());
    let mut probe = probe(targets, &issues.suggested, &proba, &session)?;
    if let Some(run) = &config.run {
        probe.how += &format!(
            "; for {from_run} rows, averaged with the out-of-sample predictions of the fine-tuned run {} (weight {})",
            run.display(),
            config.run_weight
        );
    }

    let embeddings = normalised(features)?;
    let near = within(&embeddings, config.neighbours, config.duplicate_threshold)?;
    let is_text = matches!(session.preprocessor, Preprocessor::Text(_));
    let keys: Vec<String> = origins.iter().map(|o| normalise_text(&o.input)).collect();
    let mut pairs = near.pairs.clone();
    if is_text {
        pairs.extend(exact_pairs(&keys));
    }
    let dup_groups = groups(targets.len(), &pairs);
    let paired = paired_similarity(targets.len(), &pairs);

    let label = |c: usize| names[c].clone();
    let mut findings = Vec::new();
    let mut label_detail: BTreeMap<usize, (Option<usize>, String)> = BTreeMap::new();
    for &r in &issues.ranked {
        label_detail.insert(
            r,
            (
                Some(issues.suggested[r]),
                format!(
                    "out of fold the model gives its label {:.3} and '{}' {:.3}",
                    proba[r][targets[r]],
                    label(issues.suggested[r]),
                    proba[r][issues.suggested[r]]
                ),
            ),
        );
    }
    let mut near_duplicate = vec![false; targets.len()];
    for group in &dup_groups {
        let mut members = group.clone();
        members.sort_by_key(|&r| origins[r].line);
        let first = members[0];
        for &r in &members[1..] {
            near_duplicate[r] = true;
            let similarity = paired[r];
            let exact = is_text && keys[r] == keys[first];
            findings.push(Finding {
                kind: IssueKind::NearDuplicate,
                file: DataFile::Train,
                line: origins[r].line,
                score: similarity.min(1.0),
                given: Some(label(targets[r])),
                suggested: None,
                input: origins[r].input.clone(),
                detail: if exact {
                    format!("exact copy of line {}", origins[first].line)
                } else {
                    format!(
                        "near-copy of line {} (cosine similarity {similarity:.3})",
                        origins[first].line
                    )
                },
                related: vec![origins[first].line],
                thumbnail: None,
            });
        }
        conflicting_labels(&members, targets, &names, &origins, &mut label_detail);
    }
    for (&r, (suggested, detail)) in &label_detail {
        findings.push(Finding {
            kind: IssueKind::Label,
            file: DataFile::Train,
            line: origins[r].line,
            score: 1.0 - proba[r][targets[r]],
            given: Some(label(targets[r])),
            suggested: suggested.map(label),
            input: origins[r].input.clone(),
            detail: detail.clone(),
            related: Vec::new(),
            thumbnail: None,
        });
    }
    if let Some(Precomputed::Features(test)) = session.cache.as_ref().and_then(|c| c.test.as_ref())
    {
        findings.extend(leakage(
            &normalised(test)?,
            &embeddings,
            &session.data.origins.test,
            &origins,
            &keys,
            config.duplicate_threshold,
            is_text,
        )?);
    }
    let (outlier_distance, percentiles) = fence(&near.knn_distance, config.outlier_fence);
    let median = quantile(&near.knn_distance, 0.5);
    let problems = if is_text {
        let texts: Vec<String> = origins.iter().map(|o| o.input.clone()).collect();
        text_problems(&texts)
    } else {
        vec![None; origins.len()]
    };
    let mut outlier = vec![false; targets.len()];
    for r in 0..targets.len() {
        let far = near.knn_distance[r] > outlier_distance;
        let detail = match (&problems[r], far) {
            (Some(problem), _) => problem.to_string(),
            (None, true) => format!(
                "far from every class: its {} nearest rows are at mean cosine distance {:.3} (the median row's: {median:.3})",
                config.neighbours, near.knn_distance[r]
            ),
            (None, false) => continue,
        };
        outlier[r] = true;
        findings.push(Finding {
            kind: IssueKind::Outlier,
            file: DataFile::Train,
            line: origins[r].line,
            score: if problems[r].is_some() {
                1.0
            } else {
                percentiles[r]
            },
            given: Some(label(targets[r])),
            suggested: None,
            input: origins[r].input.clone(),
            detail,
            related: Vec::new(),
            thumbnail: None,
        });
    }
    let empty_lines = if is_text {
        empty_lines(config)?
    } else {
        Vec::new()
    };
    for &line in &empty_lines {
        findings.push(Finding {
            kind: IssueKind::Outlier,
            file: DataFile::Train,
            line,
            score: 1.0,
            given: None,
            suggested: None,
            input: String::new(),
            detail: "empty text (skipped by training)".into(),
            related: Vec::new(),
            thumbnail: None,
        });
    }
    findings.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(b.score.total_cmp(&a.score))
            .then(a.line.cmp(&b.line))
    });
    if !is_text {
        add_thumbnails(&mut findings, &session, &pool.examples.encoded, &origins)?;
    }
    let row_scores = (0..targets.len())
        .map(|r| RowScores {
            line: origins[r].line,
            given: label(targets[r]),
            suggested: label(issues.suggested[r]),
            label_quality: issues.quality[r],
            label_issue: label_detail.contains_key(&r),
            max_similarity: near.nearest[r].map_or(0.0, |(_, s)| s as f64),
            most_similar_line: near.nearest[r].map(|(j, _)| origins[j].line),
            near_duplicate: near_duplicate[r],
            outlier_percentile: percentiles[r],
            outlier: outlier[r],
            text_problem: problems[r].as_ref().map(|p| p.to_string()),
        })
        .collect();
    let mut row_order: Vec<RowScores> = row_scores;
    row_order.sort_by_key(|r| r.line);
    Ok(Audit {
        format: AUDIT_FORMAT,
        model: config.model.clone(),
        data: config.data.clone(),
        test: config.test.clone(),
        classes: names,
        rows: targets.len(),
        empty_lines,
        settings: Settings {
            folds: config.folds,
            repeats: config.repeats,
            seed: config.seed,
            duplicate_threshold: config.duplicate_threshold,
            neighbours: config.neighbours,
            outlier_fence: config.outlier_fence,
            outlier_distance,
        },
        probe,
        confident_joint: issues.confident_joint,
        counts: Counts::of(&findings),
        findings,
        row_scores: row_order,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// The quality of the out-of-fold probabilities: accuracy and macro-F1 of their argmax.
fn probe(
    targets: &[usize],
    predicted: &[usize],
    proba: &[Vec<f64>],
    session: &Session,
) -> Result<Probe> {
    let metrics = crate::metrics::compute(targets, predicted, Some(proba), &session.data.labels)?;
    Ok(Probe {
        how: format!(
            "a linear head on the frozen encoder's pooled features, {HEAD_EPOCHS} epochs at most (early stopping on the held-out fold), learning rate {HEAD_LR}"
        ),
        accuracy: metrics.get("accuracy").unwrap_or(f64::NAN),
        macro_f1: metrics.get("f1_macro").unwrap_or(f64::NAN),
    })
}

/// Lines of the training file whose text is empty (training skips them).
fn empty_lines(config: &AuditConfig) -> Result<Vec<u64>> {
    if config.data.is_dir() {
        return Ok(Vec::new());
    }
    let table = crate::data::read_table(&config.data, &crate::data::ReadOptions::default())?;
    let column = table.column(&config.text_col)?;
    Ok(table
        .rows
        .iter()
        .filter(|row| {
            row.cells[column]
                .as_text()
                .is_none_or(|t| t.trim().is_empty())
        })
        .map(|row| row.line)
        .collect())
}
