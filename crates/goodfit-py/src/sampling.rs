//! `goodfit.sampling`: imbalanced-learn's samplers over a numeric table handed over as
//! raw float64 bytes (numpy's `tobytes()`), classes as indices.

use std::collections::BTreeMap;

use goodfit::sampling::{
    resample as resample_table, EnnKind, Method, Origin, ResampleParams, SamplingStrategy,
};
use goodfit::Error;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use serde_json::Value;

use crate::errors::{guarded, parse_json, to_py};

/// Every method's name, as `goodfit resample --method` spells it.
#[pyfunction]
pub fn methods() -> Vec<&'static str> {
    Method::ALL.iter().map(|m| m.name()).collect()
}

/// The strategy Python sends: `{"keyword": "auto"}`, `{"ratio": 0.5}`, `{"counts":
/// {"0": 120}}` (class index → rows) or `{"classes": [0, 2]}`.
fn strategy(value: &Value) -> Result<SamplingStrategy, Error> {
    let bad = || Error::Invalid(format!("sampling_strategy: cannot read {value}"));
    if let Some(keyword) = value.get("keyword").and_then(Value::as_str) {
        return SamplingStrategy::parse_with(keyword, |_| None);
    }
    if let Some(ratio) = value.get("ratio").and_then(Value::as_f64) {
        return Ok(SamplingStrategy::Ratio(ratio));
    }
    if let Some(counts) = value.get("counts").and_then(Value::as_object) {
        let mut map = BTreeMap::new();
        for (class, rows) in counts {
            let class: usize = class.parse().map_err(|_| bad())?;
            map.insert(class, rows.as_u64().ok_or_else(bad)? as usize);
        }
        return Ok(SamplingStrategy::Counts(map));
    }
    if let Some(classes) = value.get("classes").and_then(Value::as_array) {
        let classes = classes
            .iter()
            .map(|c| c.as_u64().map(|c| c as usize).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(SamplingStrategy::Classes(classes));
    }
    Err(bad())
}

fn number(params: &Value, key: &str) -> Option<usize> {
    params.get(key).and_then(Value::as_u64).map(|n| n as usize)
}

/// Resamples `n_rows` rows of `dim` float64 values (`x`, row-major) with classes `y`:
/// returns the new table's bytes, its classes, and each row's input row (−1 for a new,
/// synthetic row).
#[pyfunction]
#[pyo3(signature = (method, x, n_rows, dim, y, n_classes, params, class_names))]
#[allow(clippy::too_many_arguments)]
pub fn resample<'py>(
    py: Python<'py>,
    method: &str,
    x: &[u8],
    n_rows: usize,
    dim: usize,
    y: Vec<usize>,
    n_classes: usize,
    params: &str,
    class_names: Vec<String>,
) -> PyResult<(Bound<'py, PyBytes>, Vec<usize>, Vec<i64>)> {
    if x.len() != n_rows * dim * 8 || y.len() != n_rows {
        return Err(to_py(Error::Invalid(format!(
            "X holds {} bytes and y {} rows; expected {n_rows} rows of {dim} float64 values",
            x.len(),
            y.len()
        ))));
    }
    let values: Vec<f64> = x
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect();
    let params = parse_json(params, "sampler parameters")?;
    let method: Method = method.parse().map_err(to_py)?;
    let defaults = ResampleParams::default();
    let chosen = ResampleParams {
        method,
        strategy: strategy(params.get("sampling_strategy").unwrap_or(&Value::Null))
            .map_err(to_py)?,
        k_neighbors: number(&params, "k_neighbors").unwrap_or(defaults.k_neighbors),
        n_neighbors: number(&params, "n_neighbors"),
        m_neighbors: number(&params, "m_neighbors").unwrap_or(defaults.m_neighbors),
        n_neighbors_ver3: number(&params, "n_neighbors_ver3").unwrap_or(defaults.n_neighbors_ver3),
        enn_kind: match params.get("kind_sel").and_then(Value::as_str) {
            Some(kind) => kind.parse::<EnnKind>().map_err(to_py)?,
            None => EnnKind::All,
        },
        seed: params
            .get("random_state")
            .and_then(Value::as_u64)
            .unwrap_or(0),
        class_names,
    };
    let out = guarded(py, || resample_table(&values, dim, &y, n_classes, &chosen))?;
    let bytes: Vec<u8> = out.x.iter().flat_map(|v| v.to_le_bytes()).collect();
    let origin = out
        .origin
        .iter()
        .map(|o| match o {
            Origin::Original(i) => *i as i64,
            Origin::Synthetic { .. } => -1,
        })
        .collect();
    Ok((PyBytes::new(py, &bytes), out.y, origin))
}
