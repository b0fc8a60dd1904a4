//! The audit's flagged rows as evidence (a run trained with `--audit`): a verdict names
//! them where wrong labels are a likely cause — overfitting (a fine-tune memorises wrong
//! labels as readily as right ones) and imbalance bias (a class whose rows are often
//! mislabelled is learnt as the other classes).

use serde_json::json;

use crate::run_folder::summaries::RunAudit;

use super::verdict::{Remedy, Verdict, VerdictKind};

/// The share of training rows flagged from which an overfitting verdict names them.
pub const OVERFIT_SHARE: f64 = 0.05;

/// A class is named when this share of its rows is flagged, and at least 1.5× the share
/// over all rows.
pub const CLASS_SHARE: f64 = 0.1;

/// Adds the audit's evidence (and the remedy of dropping the flagged rows, unless this run
/// did) to the verdicts it bears on.
pub fn add_audit_evidence(verdicts: &mut [Verdict], audit: &RunAudit) {
    if audit.rows == 0 {
        return;
    }
    let overall = audit.label as f64 / audit.rows as f64;
    let remedy = Remedy {
        flags: format!("--audit {} --drop-flagged", audit.audit_dir),
        why: "trains without the rows the audit flags as probably mislabelled; the validation rows stay, so the scores compare".into(),
    };
    let dropped = audit.dropped > 0;
    for verdict in verdicts.iter_mut() {
        match verdict.kind {
            VerdictKind::Overfitting if overall >= OVERFIT_SHARE => {
                verdict.summary += &format!(
                    "; the audit flags {} of the {} training rows ({:.0}%) as probably mislabelled, and memorising wrong labels looks like this{}",
                    audit.label,
                    audit.rows,
                    100.0 * overall,
                    if dropped { " (this run left them out)" } else { "" }
                );
                verdict
                    .evidence
                    .insert("audit_flagged_share".into(), json!(overall));
                if !dropped {
                    verdict.remedies.push(remedy.clone());
                }
            }
            VerdictKind::ImbalanceBias => {
                let named: Vec<(&str, f64)> = audit
                    .classes
                    .iter()
                    .filter(|c| c.rows > 0)
                    .map(|c| (c.label.as_str(), c.flagged as f64 / c.rows as f64))
                    .filter(|&(_, share)| share >= CLASS_SHARE && share >= 1.5 * overall)
                    .collect();
                if named.is_empty() {
                    continue;
                }
                let words: Vec<String> = named
                    .iter()
                    .map(|(label, share)| format!("{:.0}% of '{label}'", 100.0 * share))
                    .collect();
                verdict.summary += &format!(
                    "; the audit flags {} training rows as probably mislabelled ({:.0}% over all classes), which teaches the model those classes are others",
                    words.join(" and "),
                    100.0 * overall
                );
                verdict.evidence.insert(
                    "audit_flagged_by_class".into(),
                    json!(named
                        .iter()
                        .map(|(l, s)| (l.to_string(), *s))
                        .collect::<std::collections::BTreeMap<_, _>>()),
                );
                if !dropped {
                    verdict.remedies.push(remedy.clone());
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::{Diagnosis, Severity};
    use crate::run_folder::summaries::AuditedClass;

    fn audit(flagged: [usize; 2], dropped: usize) -> RunAudit {
        RunAudit {
            format: 1,
            audit_dir: "audit".into(),
            rows: 1000,
            label: flagged[0] + flagged[1],
            near_duplicate: 0,
            leakage: 0,
            outlier: 0,
            classes: vec![
                AuditedClass {
                    label: "common".into(),
                    rows: 900,
                    flagged: flagged[0],
                },
                AuditedClass {
                    label: "rare".into(),
                    rows: 100,
                    flagged: flagged[1],
                },
            ],
            dropped,
        }
    }

    #[test]
    fn a_minority_class_often_flagged_is_named_in_the_imbalance_verdict() {
        let mut d = Diagnosis::one(VerdictKind::ImbalanceBias, Severity::High);
        add_audit_evidence(&mut d.verdicts, &audit([27, 20], 0));
        let v = &d.verdicts[0];
        assert!(v.summary.contains("20% of 'rare'"), "{}", v.summary);
        assert!(!v.summary.contains("'common'"));
        assert_eq!(v.evidence["audit_flagged_by_class"]["rare"], json!(0.2));
        assert!(v.remedies.last().unwrap().flags.ends_with("--drop-flagged"));

        // Spread evenly, wrong labels are no cause of the bias.
        let mut d = Diagnosis::one(VerdictKind::ImbalanceBias, Severity::High);
        add_audit_evidence(&mut d.verdicts, &audit([45, 5], 0));
        assert!(!d.verdicts[0].summary.contains("audit"));
    }

    #[test]
    fn overfitting_names_a_large_flagged_share_and_no_remedy_once_dropped() {
        let mut d = Diagnosis::one(VerdictKind::Overfitting, Severity::Medium);
        add_audit_evidence(&mut d.verdicts, &audit([60, 10], 70));
        let v = &d.verdicts[0];
        assert!(
            v.summary.contains("70 of the 1000 training rows (7%)"),
            "{}",
            v.summary
        );
        assert!(v.summary.contains("this run left them out"));
        assert!(v
            .remedies
            .iter()
            .all(|r| !r.flags.contains("--drop-flagged")));
        let mut d = Diagnosis::one(VerdictKind::Overfitting, Severity::Medium);
        add_audit_evidence(&mut d.verdicts, &audit([20, 10], 0));
        assert!(!d.verdicts[0].summary.contains("audit"), "3% is not named");
    }
}
