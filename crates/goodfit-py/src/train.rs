//! `goodfit.train`: settings named as `goodfit train`'s flags (snake_case), checked once
//! into a `TrainConfig` by the library, then a run or a search.

use std::path::PathBuf;

use goodfit::auto::{run_auto, AutoConfig, Budget, SelectMetric};
use goodfit::run_folder::CONFIG_FILE;
use goodfit::train::TrainConfig;
use goodfit::Error;
use pyo3::prelude::*;
use serde_json::{Map, Value};

use crate::errors::{guarded, parse_json, to_py};
use crate::observer::PyObserver;

/// The name of every setting `train` takes.
#[pyfunction]
pub fn setting_names() -> Vec<String> {
    TrainConfig::setting_names()
}

/// The configuration from `settings` (a JSON object), on top of the run folder `resume`'s
/// own when given.
fn configuration(settings: &str, resume: Option<&str>) -> PyResult<TrainConfig> {
    let Value::Object(given) = parse_json(settings, "settings")? else {
        return Err(to_py(Error::Invalid(
            "settings must be a JSON object".into(),
        )));
    };
    let mut all = Map::new();
    if let Some(run) = resume {
        let run = PathBuf::from(run);
        let saved = TrainConfig::read(&run.join(CONFIG_FILE)).map_err(to_py)?;
        if let Value::Object(saved) =
            serde_json::to_value(saved).map_err(|e| to_py(Error::serialization(e)))?
        {
            all = saved;
        }
        all.insert(
            "out".into(),
            Value::String(run.to_string_lossy().into_owned()),
        );
    }
    all.extend(given);
    TrainConfig::from_settings(all).map_err(to_py)
}

/// The search's settings, checked as the command line checks them.
fn auto_config(auto: &str) -> PyResult<AutoConfig> {
    let value = parse_json(auto, "auto settings")?;
    let mut config = AutoConfig::default();
    if let Some(m) = value.get("budget_minutes").and_then(Value::as_f64) {
        config.budget_minutes = Some(m);
    }
    if let Some(n) = value.get("max_trials").and_then(Value::as_u64) {
        config.max_trials = Some(n as usize);
        if value.get("budget_minutes").is_none_or(Value::is_null) {
            config.budget_minutes = None;
        }
    }
    if let Some(metric) = value.get("select_metric").and_then(Value::as_str) {
        config.select_metric = metric.to_string();
    }
    if let Some(folds) = value.get("cv_folds").and_then(Value::as_u64) {
        if folds == 1 {
            return Err(to_py(Error::Invalid(
                "cv_folds=1 is not cross-validation: give 2 or more folds, or 0 for none".into(),
            )));
        }
        config.cv_folds = Some(folds as usize);
    }
    Budget::new(config.budget_minutes, config.max_trials).map_err(to_py)?;
    SelectMetric::parse(&config.select_metric).map_err(to_py)?;
    Ok(config)
}

/// Trains (with `cv_folds`, cross-validates; with `auto`, searches) as `settings` say,
/// then diagnoses and reports; returns the run folder. `progress(kind, payload)` hears
/// messages and epoch records.
#[pyfunction]
#[pyo3(signature = (settings, auto=None, resume=None, overwrite=false, progress=None, cv_folds=None))]
pub fn train(
    py: Python<'_>,
    settings: &str,
    auto: Option<&str>,
    resume: Option<&str>,
    overwrite: bool,
    progress: Option<Py<PyAny>>,
    cv_folds: Option<usize>,
) -> PyResult<String> {
    let mut config = configuration(settings, resume)?;
    config.overwrite = overwrite;
    let auto = auto.map(auto_config).transpose()?;
    let folds = cv_folds.filter(|&k| k > 0);
    let refuse = |m: &str| Err(to_py(Error::Invalid(m.into())));
    if auto.is_some() && resume.is_some() {
        return refuse(
            "resume continues one run and cannot be combined with auto; start the search again",
        );
    }
    if folds.is_some() && resume.is_some() {
        return refuse("resume continues one run and cannot be combined with cv_folds; start the cross-validation again");
    }
    let observer = PyObserver::new(progress);
    let out = guarded(py, || match (&auto, folds) {
        (Some(auto), _) => run_auto(&config, auto, &observer).map(|r| r.out),
        (None, Some(k)) => {
            goodfit::pipeline::cross_validate(&config, k, &observer).map(|r| r.out.clone())
        }
        (None, None) => {
            goodfit::pipeline::train(&config, resume.is_some(), &observer).map(|r| r.out.clone())
        }
    })?;
    Ok(out.to_string_lossy().into_owned())
}
