//! The step above training: train (or re-decide) a run, then diagnose it and write its
//! report. `train/` writes what training knows; the verdicts and the page are made here,
//! so that no file in `train/` reaches up to `diagnose/` or `report/`.

use std::ops::Deref;
use std::path::Path;

use crate::audit::output::{flagged_lines, read_audit, run_summary};
use crate::diagnose::{diagnose_run, Diagnosis};
use crate::error::{Error, Result};
use crate::report::write_report;
use crate::run_folder::summaries::{RunAudit, Summary};
use crate::run_folder::AUDIT_SUMMARY_FILE;
use crate::train::decide::{redecide_run, Decided};
use crate::train::trainer::{train as train_only, RunResult};
use crate::train::{Observer, TrainConfig};

/// A finished, diagnosed and reported run.
pub struct Reported {
    /// What training reports.
    pub run: RunResult,
    /// The verdicts on it.
    pub diagnosis: Diagnosis,
}

impl Deref for Reported {
    type Target = RunResult;
    fn deref(&self) -> &RunResult {
        &self.run
    }
}

/// Diagnoses the finished run in `run` (writing `diagnosis.json`) and writes its
/// `report.html`.
pub fn diagnose_and_report(run: &Path) -> Result<Diagnosis> {
    let diagnosis = diagnose_run(run)?;
    write_report(run)?;
    Ok(diagnosis)
}

/// Trains as `config` says ([`crate::train::train`]), then diagnoses and reports the run;
/// with `--audit`, the audit's summary joins the run folder first (and `--drop-flagged`
/// leaves its flagged rows out of training).
pub fn train(config: &TrainConfig, resume: bool, observer: &dyn Observer) -> Result<Reported> {
    reported(config, |config| train_only(config, resume, observer))
}

/// Cross-validates `config` over `k` folds ([`crate::train::cross_val::cross_validate`]:
/// fold models, out-of-fold predictions of every row, the test file scored by their
/// average), then diagnoses (on the folds' averaged curves) and reports the run.
pub fn cross_validate(config: &TrainConfig, k: usize, observer: &dyn Observer) -> Result<Reported> {
    reported(config, |config| {
        Ok(crate::train::cross_val::cross_validate(config, k, observer)?.0)
    })
}

/// Runs `train` on `config` with its audit attached, then diagnoses and reports the run.
fn reported(
    config: &TrainConfig,
    train: impl FnOnce(&TrainConfig) -> Result<RunResult>,
) -> Result<Reported> {
    let mut config = config.clone();
    let audit = attach_audit(&mut config)?;
    let run = train(&config)?;
    if let Some((audit, _)) = &audit {
        audit.write(&run.out.join(AUDIT_SUMMARY_FILE))?;
    }
    let diagnosis = diagnose_and_report(&run.out)?;
    Ok(Reported { run, diagnosis })
}

/// The audit `config.audit` names, checked to be of `config.train`, as a run folder keeps
/// it, and the training lines it flags as probably mislabelled; with `drop_flagged`, those
/// lines are set in `config.drop_lines`. Reads only.
pub fn attach_audit(config: &mut TrainConfig) -> Result<Option<(RunAudit, Vec<u64>)>> {
    let Some(dir) = config.audit.clone() else {
        return Ok(None);
    };
    let audit = read_audit(&dir)?;
    let real = |p: &Path| p.canonicalize().ok();
    if real(&audit.data).is_none() || real(&audit.data) != real(&config.train) {
        return Err(Error::Invalid(format!(
            "--audit {}: it audits {}, not the training file {}; run goodfit audit --data {} first",
            dir.display(),
            audit.data.display(),
            config.train.display(),
            config.train.display()
        )));
    }
    let flagged = flagged_lines(&audit);
    let dropped = if config.drop_flagged {
        config.drop_lines = flagged.clone();
        flagged.len()
    } else {
        0
    };
    Ok(Some((run_summary(&audit, &dir, dropped), flagged)))
}

/// Sets a finished run's decision rule again ([`redecide_run`]), then diagnoses and reports
/// it anew.
pub fn redecide(
    run: &Path,
    objective: Option<crate::decision::Objective>,
    logit_adjust: Option<f64>,
) -> Result<Decided> {
    let decided = redecide_run(run, objective, logit_adjust)?;
    diagnose_and_report(run)?;
    Ok(decided)
}

#[cfg(test)]
mod tests {
    /// `train/` imports down the layers only: never `diagnose/`, `report/`, `auto/` or
    /// this module.
    #[test]
    fn train_never_reaches_up() {
        let patterns: Vec<String> = ["audit", "diagnose", "report", "auto", "pipeline"]
            .iter()
            .map(|upper| format!("crate::{upper}"))
            .collect();
        let offenders = lines_naming(&["train"], &patterns);
        assert!(offenders.is_empty(), "{offenders:#?}");
    }

    #[test]
    fn training_diagnosis_and_the_search_never_see_a_model_family_s_insides() {
        // Token ids, tokenizers and BERT's weight names are the backbone's and the
        // preprocessor's business (model/): train/, auto/ and diagnose/ move examples by
        // row and weights by their places.
        let patterns: Vec<String> = [
            "BatchInputs::Text",
            "BatchInputs::Image",
            "Example::Tokens",
            "Example::Image",
            "tokenizers::",
            "encode_texts",
            "load_tokenizer",
            "pad_token_id",
            "\"encoder.layer",
        ]
        .iter()
        .map(|p| p.to_string())
        .collect();
        let offenders = lines_naming(&["train", "auto", "diagnose", "audit"], &patterns);
        assert!(offenders.is_empty(), "{offenders:#?}");
    }

    /// The code lines (comments and `#[cfg(test)]` modules aside) of the source folders
    /// `folders` that contain any of `patterns`, as `path:line: code`.
    fn lines_naming(folders: &[&str], patterns: &[String]) -> Vec<String> {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack: Vec<std::path::PathBuf> = folders.iter().map(|f| src.join(f)).collect();
        let mut offenders = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (number, line) in text.lines().enumerate() {
                    let code = line.trim_start();
                    if code.starts_with("#[cfg(test)]") {
                        break;
                    }
                    if code.starts_with("//") {
                        continue;
                    }
                    if patterns.iter().any(|p| code.contains(p.as_str())) {
                        offenders.push(format!("{}:{}: {code}", path.display(), number + 1));
                    }
                }
            }
        }
        offenders
    }
}
