//! goodfit's Python extension module, `goodfit._goodfit`: a thin shell over the library,
//! as `goodfit-cli` is for the command line. Every function takes and returns plain
//! Python values (strings, lists, bytes, JSON text); the Python package
//! (`python/goodfit`) turns them into DataFrames, numpy arrays and objects.
//!
//! Errors become the exceptions of `goodfit.errors` ([`errors`]); a panic never crosses
//! into Python ([`errors::guarded`]). Long work runs with the interpreter released.

use pyo3::prelude::*;

mod errors;
mod metrics;
mod observer;
mod predict;
mod runs;
mod sampling;
mod train;

#[pymodule]
fn _goodfit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(train::setting_names, m)?)?;
    m.add_function(wrap_pyfunction!(train::train, m)?)?;
    m.add_function(wrap_pyfunction!(runs::load_run, m)?)?;
    m.add_function(wrap_pyfunction!(predict::predict, m)?)?;
    m.add_function(wrap_pyfunction!(sampling::resample, m)?)?;
    m.add_function(wrap_pyfunction!(sampling::methods, m)?)?;
    m.add_function(wrap_pyfunction!(metrics::report, m)?)?;
    Ok(())
}
