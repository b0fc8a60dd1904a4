//! `goodfit audit`: which examples are probably mislabelled, which are near-duplicates (and
//! which test rows copy training rows), and which are out of place — before fine-tuning,
//! in seconds once the frozen encoder has embedded the data.
//!
//! Out-of-fold probabilities come from heads trained on the frozen encoder's pooled
//! features (`train::cross_val::out_of_fold_proba`), confident learning reads them
//! ([`confident`], cleanlab's algorithm to the row), and the same features, normalised,
//! give the neighbours ([`neighbours`]); [`text_checks`] looks at the texts themselves.
//! [`output`] owns the audit folder.

pub mod confident;
pub mod copies;
pub mod findings;
pub mod neighbours;
pub mod outliers;
pub mod output;
pub mod run;
pub mod run_predictions;
pub mod text_checks;

pub use confident::{confident_joint, find_label_issues, LabelIssues};
pub use findings::{Counts, DataFile, Finding, IssueKind, RowScores};
pub use run::{audit, Audit, AuditConfig};
