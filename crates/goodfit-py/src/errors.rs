//! goodfit's errors as Python exceptions. The classes live in `goodfit.errors` (Python),
//! where `InputError` can be both a `GoodfitError` and a `ValueError`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use goodfit::Error;
use pyo3::prelude::*;

/// The Python exception for `error`: bad input is `InputError` (a `ValueError`), a missing
/// or unreadable file `GoodfitIOError` (an `OSError`), a diverged loss `TrainingDiverged`,
/// an interrupted run `Interrupted` (a `KeyboardInterrupt`), the rest `GoodfitError`.
pub fn to_py(error: Error) -> PyErr {
    let class = match &error {
        Error::Input { .. } | Error::MissingColumn { .. } | Error::Invalid(_) => "InputError",
        Error::Io { .. } => "GoodfitIOError",
        Error::Diverged(_) => "TrainingDiverged",
        Error::Tensor(_) | Error::Serialization(_) => "GoodfitError",
        Error::Interrupted { epochs_done, out } => {
            return Python::attach(|py| {
                let class = py.import("goodfit.errors")?.getattr("Interrupted")?;
                let args = (out.to_string_lossy().into_owned(), *epochs_done);
                Ok::<PyErr, PyErr>(PyErr::from_value(class.call1(args)?))
            })
            .unwrap_or_else(|e| e);
        }
    };
    exception(class, error.to_string())
}

/// Runs `work` with the interpreter released (other Python threads go on), catching a
/// panic as a `GoodfitError` so that none reaches Python.
pub fn guarded<T: Send>(
    py: Python<'_>,
    work: impl FnOnce() -> goodfit::Result<T> + Send,
) -> PyResult<T> {
    let outcome = py.detach(|| catch_unwind(AssertUnwindSafe(work)));
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(to_py(error)),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown".into());
            Err(exception(
                "GoodfitError",
                format!("internal error (a bug in goodfit, please report it): {what}"),
            ))
        }
    }
}

/// A JSON value handed over from Python, or an `InputError` naming `what`.
pub fn parse_json(text: &str, what: &str) -> PyResult<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| to_py(Error::Invalid(format!("{what}: {e}"))))
}

/// `value` as JSON text for Python's `json.loads`.
pub fn to_json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| to_py(Error::serialization(e)))
}

/// An instance of `goodfit.errors.CLASS` with one message.
pub fn exception(class: &str, message: String) -> PyErr {
    Python::attach(|py| {
        let class = py.import("goodfit.errors")?.getattr(class)?;
        Ok::<PyErr, PyErr>(PyErr::from_value(class.call1((message,))?))
    })
    .unwrap_or_else(|e| e)
}
