//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The test fixture `name`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The real all-MiniLM-L6-v2 folder (`scripts/fetch-model.sh` puts it in `models/`), or
/// `GOODFIT_TEST_MODEL`. When it is absent the real-model tests are skipped with a note —
/// unless `GOODFIT_REQUIRE_MODEL=1` (set by `make test` and CI), where absence is a failure.
pub fn real_model() -> Option<PathBuf> {
    let dir = std::env::var_os("GOODFIT_TEST_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/all-MiniLM-L6-v2")
        });
    if dir.join("model.safetensors").is_file() {
        return Some(dir);
    }
    if std::env::var("GOODFIT_REQUIRE_MODEL").is_ok_and(|v| v == "1") {
        panic!(
            "the real model is required but missing at {}: run scripts/fetch-model.sh",
            dir.display()
        );
    }
    eprintln!(
        "skipped: no model at {} (run scripts/fetch-model.sh)",
        dir.display()
    );
    None
}
