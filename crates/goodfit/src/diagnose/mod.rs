//! Diagnosis: does a run overfit, underfit, or favour the majority class — in plain words,
//! with the numbers, and with the flags that fix it.

pub mod audit_evidence;
pub mod curves;
pub mod facts;
pub mod imbalance;
pub mod verdict;
/// Weight statistics live with the model (`model::weight_stats`); their flags are read here.
pub use crate::model::weight_stats as weights;

use std::path::Path;

use serde_json::Map;

use crate::error::Result;

pub use facts::RunFacts;
pub use verdict::{Diagnosis, Remedy, Severity, Verdict, VerdictKind};

use crate::run_folder::summaries::{RunDiagnosis, Summary};
/// The diagnosis file of a run folder.
pub use crate::run_folder::DIAGNOSIS_FILE;

/// Every verdict that applies, most severe first; `good_fit` when none does.
pub fn diagnose(facts: &RunFacts) -> Diagnosis {
    let mut verdicts: Vec<Verdict> = [
        curves::overfitting(facts),
        curves::underfitting(facts),
        imbalance::imbalance_bias(facts),
    ]
    .into_iter()
    .flatten()
    .collect();
    verdicts.sort_by_key(|v| std::cmp::Reverse(v.severity));
    if let Some(audit) = &facts.audit {
        audit_evidence::add_audit_evidence(&mut verdicts, audit);
    }
    if verdicts.is_empty() {
        let mut evidence = Map::new();
        let last = facts.history.last();
        for key in ["train_loss", "val_loss", "train_f1_macro", "val_f1_macro"] {
            if let Some(value) = last.and_then(|r| r.get(key)) {
                evidence.insert(key.into(), serde_json::json!(value));
            }
        }
        verdicts.push(Verdict {
            kind: VerdictKind::GoodFit,
            severity: Severity::Low,
            summary: "no sign of overfitting, underfitting or imbalance bias: validation loss settled without turning up, and every class is recalled alike".into(),
            evidence,
            remedies: Vec::new(),
        });
    }
    Diagnosis { verdicts }
}

/// Diagnoses the finished run in `run` and writes its `diagnosis.json`.
pub fn diagnose_run(run: &Path) -> Result<Diagnosis> {
    let diagnosis = diagnose(&RunFacts::read(run)?);
    RunDiagnosis::of(&diagnosis)?.write(&run.join(DIAGNOSIS_FILE))?;
    Ok(diagnosis)
}

/// The text of `diagnosis.json`: the verdicts under the run folder's record format. (A
/// diagnosis inside `trials.jsonl` and `auto.json` is part of those records and carries
/// none of its own.)
pub fn diagnosis_file(diagnosis: &Diagnosis) -> Result<String> {
    RunDiagnosis::of(diagnosis)?.text()
}
