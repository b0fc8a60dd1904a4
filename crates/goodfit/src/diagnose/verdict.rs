//! What a diagnosis says: verdicts with their evidence and the flags that remedy them.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The kinds of verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// Validation loss turned up while training loss kept falling, or a large, growing gap.
    Overfitting,
    /// Training loss stays near the prior baseline and flat: the model cannot fit the data.
    Underfitting,
    /// Still improving when training stopped: more epochs would help.
    NotConverged,
    /// The majority class is favoured: minority recall far below majority recall.
    ImbalanceBias,
    /// None of the above.
    GoodFit,
}

/// How much a verdict matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Low,
    /// Worth fixing.
    Medium,
    /// The result is not to be trusted as it is.
    High,
}

/// A change to try: goodfit flags to paste, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remedy {
    /// The flags, e.g. `--weight-decay 0.05 --dropout 0.2`.
    pub flags: String,
    /// Why they help in this case.
    pub why: String,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// What was found.
    pub kind: VerdictKind,
    /// How much it matters.
    pub severity: Severity,
    /// The finding in one plain sentence with its numbers.
    pub summary: String,
    /// The numbers it rests on.
    pub evidence: Map<String, Value>,
    /// Remedies, most promising first.
    pub remedies: Vec<Remedy>,
}

/// All verdicts of a run (`diagnosis.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// The verdicts, most severe first; `good_fit` alone when nothing is wrong.
    pub verdicts: Vec<Verdict>,
}

#[cfg(test)]
impl Diagnosis {
    /// One verdict of `kind` and `severity` with no evidence, for tests.
    pub(crate) fn one(kind: VerdictKind, severity: Severity) -> Diagnosis {
        Diagnosis {
            verdicts: vec![Verdict {
                kind,
                severity,
                summary: String::new(),
                evidence: Default::default(),
                remedies: Vec::new(),
            }],
        }
    }
}

impl Diagnosis {
    /// Whether a verdict of this kind was given.
    pub fn has(&self, kind: VerdictKind) -> bool {
        self.verdicts.iter().any(|v| v.kind == kind)
    }
}

impl fmt::Display for VerdictKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VerdictKind::Overfitting => "overfitting",
            VerdictKind::Underfitting => "underfitting",
            VerdictKind::NotConverged => "not converged",
            VerdictKind::ImbalanceBias => "imbalance bias",
            VerdictKind::GoodFit => "good fit",
        })
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for verdict in &self.verdicts {
            let severity = match verdict.severity {
                Severity::Low => "low",
                Severity::Medium => "medium",
                Severity::High => "high",
            };
            writeln!(f, "{} ({severity}): {}", verdict.kind, verdict.summary)?;
            for remedy in &verdict.remedies {
                writeln!(f, "  try {:<40} {}", remedy.flags, remedy.why)?;
            }
        }
        Ok(())
    }
}
