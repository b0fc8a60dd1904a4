//! `Run.predict` and `Run.predict_proba`: a run folder's model (or ensemble) on texts or
//! picture paths.

use std::path::PathBuf;

use goodfit::decision::predict_all;
use goodfit::train::predictor::Predictor;
use pyo3::prelude::*;

use crate::errors::guarded;

/// The model's labels (as text), each input's probabilities, each input's class index.
type Predictions = (Vec<String>, Vec<Vec<f64>>, Vec<usize>);

/// The class labels (as text, in the model's order), each input's probabilities, and each
/// input's predicted class index (by the model's decision rule, or argmax with `argmax`).
/// Relative picture paths are read from `base` (a folder).
#[pyfunction]
#[pyo3(signature = (run, inputs, base, batch_size=64, argmax=false))]
pub fn predict(
    py: Python<'_>,
    run: PathBuf,
    inputs: Vec<String>,
    base: PathBuf,
    batch_size: usize,
    argmax: bool,
) -> PyResult<Predictions> {
    guarded(py, || {
        let predictor = Predictor::open(&run)?;
        // `predict` reads relative picture paths beside its source file.
        let source = base.join("inputs");
        let proba = predictor
            .predict(&inputs, &source, batch_size.max(1), &mut |_| {})?
            .proba;
        let rule = if argmax {
            None
        } else {
            predictor.info.decision.clone()
        };
        let predicted = predict_all(&proba, rule.as_ref());
        let labels = predictor.info.labels.iter().map(|l| l.as_text()).collect();
        Ok((labels, proba, predicted))
    })
}
