//! What an audit finds, row by row, in plain types: each finding names its file, line,
//! kind and score, and the per-row scores behind `issues.csv`.

use serde::{Deserialize, Serialize};

/// The kinds of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// Probably mislabelled: confident learning, or a near-duplicate carrying another label.
    Label,
    /// A near-copy (or exact copy) of an earlier training row.
    NearDuplicate,
    /// A test row that is a near-copy of a training row.
    Leakage,
    /// Far from every class in embedding space, or a text unlike the others.
    Outlier,
}

impl IssueKind {
    /// Every kind, in the order a report lists them.
    pub const ALL: [IssueKind; 4] = [
        IssueKind::Label,
        IssueKind::NearDuplicate,
        IssueKind::Leakage,
        IssueKind::Outlier,
    ];

    /// The kind in words, for tables and the report.
    pub fn title(self) -> &'static str {
        match self {
            IssueKind::Label => "Probably mislabelled",
            IssueKind::NearDuplicate => "Near-duplicates",
            IssueKind::Leakage => "Test rows leaked from training",
            IssueKind::Outlier => "Out of place",
        }
    }
}

/// Which data file a finding's row is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataFile {
    /// The training file (`--data`).
    Train,
    /// The test file (`--test`).
    Test,
}

/// One finding about one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// What is wrong.
    pub kind: IssueKind,
    /// The file of the row.
    pub file: DataFile,
    /// Its line (a Parquet file's row number), as `goodfit inspect` numbers rows.
    pub line: u64,
    /// How sure the finding is, from 0 to 1, higher is worse: 1 − the probability of the
    /// given label (label issues), the cosine similarity (near-duplicates, leakage), the
    /// percentile of the neighbour distance (outliers; 1 for a text problem).
    pub score: f64,
    /// The row's label.
    pub given: Option<String>,
    /// The label the evidence suggests (label issues).
    pub suggested: Option<String>,
    /// The row's text (or picture path).
    pub input: String,
    /// The evidence, in words.
    pub detail: String,
    /// The lines of the rows it relates to (the earlier copy, the training row a test row
    /// copies, the rest of a near-duplicate group).
    pub related: Vec<u64>,
    /// For a picture among the first [`THUMBNAILS`] of its kind: a small PNG as a `data:`
    /// URI, which the page shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
}

/// Findings of each kind that carry a thumbnail (the page's tables show as many).
pub const THUMBNAILS: usize = 50;

/// What the audit measured for one training row (a line of `issues.csv`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowScores {
    /// Its line in the training file.
    pub line: u64,
    /// Its label.
    pub given: String,
    /// The likeliest class out of fold.
    pub suggested: String,
    /// The out-of-fold probability of its label (cleanlab's self-confidence; low is bad).
    pub label_quality: f64,
    /// Whether confident learning (or a conflicting near-duplicate) flags its label.
    pub label_issue: bool,
    /// Its largest cosine similarity to another training row.
    pub max_similarity: f64,
    /// The line of that most similar row.
    pub most_similar_line: Option<u64>,
    /// Whether it is a near-copy of an earlier training row.
    pub near_duplicate: bool,
    /// The share of training rows closer to their neighbours than it is (0 to 1).
    pub outlier_percentile: f64,
    /// Whether it is flagged as out of place.
    pub outlier: bool,
    /// A problem with its text, in words.
    pub text_problem: Option<String>,
}

/// Counts of findings by kind, for summaries (the report's data section, the CLI).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Probably mislabelled training rows.
    pub label: usize,
    /// Training rows that copy an earlier one.
    pub near_duplicate: usize,
    /// Test rows that copy a training row.
    pub leakage: usize,
    /// Training rows out of place.
    pub outlier: usize,
}

impl Counts {
    /// The counts of `findings`.
    pub fn of(findings: &[Finding]) -> Counts {
        let n = |kind| findings.iter().filter(|f| f.kind == kind).count();
        Counts {
            label: n(IssueKind::Label),
            near_duplicate: n(IssueKind::NearDuplicate),
            leakage: n(IssueKind::Leakage),
            outlier: n(IssueKind::Outlier),
        }
    }
}
