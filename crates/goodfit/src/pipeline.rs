//! The step above training: train (or re-decide) a run, then diagnose it and write its
//! report. `train/` writes what training knows; the verdicts and the page are made here,
//! so that no file in `train/` reaches up to `diagnose/` or `report/`.

use std::ops::Deref;
use std::path::Path;

use crate::diagnose::{diagnose_run, Diagnosis};
use crate::error::Result;
use crate::report::write_report;
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

/// Trains as `config` says ([`crate::train::train`]), then diagnoses and reports the run.
pub fn train(config: &TrainConfig, resume: bool, observer: &dyn Observer) -> Result<Reported> {
    let run = train_only(config, resume, observer)?;
    let diagnosis = diagnose_and_report(&run.out)?;
    Ok(Reported { run, diagnosis })
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
        let train = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/train");
        let mut stack = vec![train];
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
                    if code.starts_with("//") {
                        continue;
                    }
                    for upper in ["diagnose", "report", "auto", "pipeline"] {
                        if code.contains(&format!("crate::{upper}")) {
                            offenders.push(format!("{}:{}: {code}", path.display(), number + 1));
                        }
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "{offenders:#?}");
    }
}
