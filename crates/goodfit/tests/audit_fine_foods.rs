//! `goodfit audit` on the shipped fine_foods reviews with the real all-MiniLM-L6-v2 (run
//! under `GOODFIT_REQUIRE_MODEL=1`, skipped without the model): it lists the 21 exact
//! duplicate rows and the 7 test rows copied from training that `goodfit inspect` counts,
//! and its out-of-fold probabilities say the frozen features carry the labels (macro-F1
//! 0.72 at the default 128 tokens).

mod common;

use std::path::Path;

use goodfit::audit::{audit, AuditConfig, DataFile, IssueKind};
use goodfit::train::Silent;

#[test]
fn the_shipped_reviews_exact_copies_and_leaks_are_among_the_findings() {
    let Some(model) = common::real_model() else {
        return;
    };
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fine_foods");
    let config = AuditConfig {
        test: Some(data.join("test.jsonl")),
        // Half the default window halves the encoder's pass over 5,000 reviews, which
        // dominates in a debug build; copies are found by their whole text anyway.
        max_len: 64,
        repeats: 2,
        ..AuditConfig::new(model.to_string_lossy(), data.join("train.jsonl"))
    };
    let found = audit(&config, &Silent).unwrap();
    assert_eq!(found.rows, 4000);
    let exact = |kind: IssueKind, prefix: &str| {
        found
            .findings
            .iter()
            .filter(|f| f.kind == kind && f.detail.starts_with(prefix))
            .count()
    };
    assert_eq!(exact(IssueKind::NearDuplicate, "exact copy of line"), 21);
    assert_eq!(exact(IssueKind::Leakage, "exact copy of training line"), 7);
    assert!(found
        .findings
        .iter()
        .filter(|f| f.kind == IssueKind::Leakage)
        .all(|f| f.file == DataFile::Test));
    // Out of fold, the frozen features predict the labels well above chance (0.5).
    assert!(found.probe.macro_f1 > 0.65, "{:?}", found.probe);
    assert!(
        found.counts.label > 0 && found.counts.label < 1000,
        "{:?}",
        found.counts
    );
}
