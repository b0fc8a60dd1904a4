//! Training progress for Python: Ctrl-C (a notebook's interrupt) checked after every
//! batch, and each epoch's record or message handed to an optional Python callable.

use std::sync::atomic::{AtomicBool, Ordering};

use goodfit::run_folder::records::EpochRecord;
use goodfit::train::Observer;
use pyo3::prelude::*;

/// Called with the interpreter released: each question re-enters it for a moment.
pub struct PyObserver {
    /// `progress(kind, payload)`: kind `"message"` with a string, `"epoch"` with the
    /// epoch record's JSON text.
    progress: Option<Py<PyAny>>,
    interrupted: AtomicBool,
}

impl PyObserver {
    pub fn new(progress: Option<Py<PyAny>>) -> PyObserver {
        PyObserver {
            progress,
            interrupted: AtomicBool::new(false),
        }
    }

    fn tell(&self, kind: &str, payload: String) {
        if let Some(progress) = &self.progress {
            Python::attach(|py| {
                // A failing callback (or Ctrl-C inside it) stops the run like Ctrl-C.
                if progress.call1(py, (kind, payload)).is_err() {
                    self.interrupted.store(true, Ordering::SeqCst);
                }
            });
        }
    }
}

impl Observer for PyObserver {
    fn message(&self, text: &str) {
        self.tell("message", text.to_string());
    }

    fn epoch_end(&self, record: &EpochRecord) {
        if let Ok(json) = serde_json::to_string(record) {
            self.tell("epoch", json);
        }
    }

    fn keep_going(&self) -> bool {
        !self.stop_now()
    }

    /// Runs Python's signal handlers: a pending Ctrl-C raises KeyboardInterrupt there,
    /// which stops the run after this batch (the caller raises `goodfit.errors.Interrupted`).
    fn stop_now(&self) -> bool {
        if self.interrupted.load(Ordering::SeqCst) {
            return true;
        }
        let signalled = Python::attach(|py| py.check_signals().is_err());
        if signalled {
            self.interrupted.store(true, Ordering::SeqCst);
        }
        signalled
    }
}
