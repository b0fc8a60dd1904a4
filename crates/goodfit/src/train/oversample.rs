//! Oversampling in embedding space (`--oversample`): with the encoder frozen, each text is a
//! fixed vector, so imbalanced-learn's over-samplers can make synthetic minority examples
//! there and the head trains on them. No tokens are invented: only feature vectors.

use std::fmt;
use std::str::FromStr;

use candle_core::Tensor;

use crate::data::LabelMap;
use crate::error::{Error, Result};
use crate::model::Example;
use crate::sampling::{resample, Method, ResampleParams, SamplingStrategy};

use super::data::Examples;
use super::imbalance::class_counts;

/// Which over-sampler makes the synthetic embeddings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Oversample {
    /// Copies of minority rows, drawn at random.
    Random,
    /// SMOTE: points on segments between a minority row and one of its minority neighbours.
    Smote,
    /// Borderline-SMOTE 1: SMOTE from the minority rows near the class boundary only.
    Borderline,
    /// ADASYN: more synthetic rows around minority rows surrounded by other classes.
    Adasyn,
}

impl Oversample {
    /// The sampler behind it.
    pub fn method(self) -> Method {
        match self {
            Oversample::Random => Method::RandomOver,
            Oversample::Smote => Method::Smote,
            Oversample::Borderline => Method::Borderline1,
            Oversample::Adasyn => Method::Adasyn,
        }
    }
}

impl FromStr for Oversample {
    type Err = Error;
    fn from_str(text: &str) -> Result<Oversample> {
        match text {
            "random" => Ok(Oversample::Random),
            "smote" => Ok(Oversample::Smote),
            "borderline" => Ok(Oversample::Borderline),
            "adasyn" => Ok(Oversample::Adasyn),
            other => Err(Error::Invalid(format!(
                "unknown oversampler '{other}'; choose random, smote, borderline or adasyn"
            ))),
        }
    }
}

impl TryFrom<String> for Oversample {
    type Error = Error;
    fn try_from(text: String) -> Result<Oversample> {
        text.parse()
    }
}

impl From<Oversample> for String {
    fn from(how: Oversample) -> String {
        how.to_string()
    }
}

impl fmt::Display for Oversample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Oversample::Random => "random",
            Oversample::Smote => "smote",
            Oversample::Borderline => "borderline",
            Oversample::Adasyn => "adasyn",
        })
    }
}

/// The training examples and their frozen features with synthetic minority rows appended
/// (every class raised to the majority's count, imbalanced-learn's `auto`). The original rows
/// keep their places; synthetic rows have no tokens.
pub fn oversample(
    features: &Tensor,
    train: &Examples,
    labels: &LabelMap,
    how: Oversample,
    seed: u64,
) -> Result<(Examples, Tensor)> {
    let (rows, dim) = features.dims2()?;
    let x: Vec<f64> = features
        .to_dtype(candle_core::DType::F64)?
        .flatten_all()?
        .to_vec1()?;
    let params = ResampleParams {
        method: how.method(),
        strategy: SamplingStrategy::Auto,
        seed,
        class_names: labels.names(),
        ..ResampleParams::default()
    };
    let out = resample(&x, dim, &train.targets, labels.len(), &params)
        .map_err(|e| Error::Invalid(format!("--oversample {how} on the frozen embeddings: {e}")))?;
    debug_assert!(out.y.len() >= rows && out.y[..rows] == train.targets[..]);
    let n = out.y.len();
    let mut encoded = train.encoded.clone();
    encoded.resize(n, Example::Synthetic);
    let tensor =
        Tensor::from_vec(out.x, (n, dim), features.device())?.to_dtype(features.dtype())?;
    Ok((
        Examples {
            encoded,
            targets: out.y,
        },
        tensor,
    ))
}

/// One line on what oversampling added, per class.
pub fn describe(before: &[usize], after: &Examples, labels: &LabelMap) -> String {
    let now = class_counts(&after.targets, labels.len());
    let parts: Vec<String> = before
        .iter()
        .zip(&now)
        .enumerate()
        .filter(|(_, (b, a))| a > b)
        .map(|(c, (b, a))| format!("'{}' {b} → {a}", labels.label(c)))
        .collect();
    format!("synthetic training embeddings: {}", parts.join(", "))
}
