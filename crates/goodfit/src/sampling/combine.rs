//! SMOTE followed by a cleaning step, as imbalanced-learn's `SMOTETomek` and `SMOTEENN`.

use std::collections::BTreeMap;

use rand_chacha::ChaCha8Rng;

use crate::error::Result;

use super::method::Method;
use super::resample::{Input, ResampleParams, Resampled};
use super::strategy::{SamplingStrategy, SamplingType};
use super::{enn, smote, tomek};

/// `SMOTETomek`: SMOTE with the asked strategy, then Tomek links removed from every class
/// (both members of each link go).
pub(crate) fn smote_tomek(
    input: &Input,
    targets: &BTreeMap<usize, usize>,
    params: &ResampleParams,
    rng: &mut ChaCha8Rng,
) -> Result<Resampled> {
    let method = Method::SmoteTomek;
    let grown = smote::smote(input, targets, params.k_neighbors, method, rng)?;
    clean(input, grown, |step, all| tomek::kept(step, all, method))
}

/// `SMOTEENN`: SMOTE with the asked strategy, then Edited Nearest Neighbours on every class
/// (`n_neighbors`, default 3, and the ENN rule from `params`).
pub(crate) fn smote_enn(
    input: &Input,
    targets: &BTreeMap<usize, usize>,
    params: &ResampleParams,
    rng: &mut ChaCha8Rng,
) -> Result<Resampled> {
    let method = Method::SmoteEnn;
    let grown = smote::smote(input, targets, params.k_neighbors, method, rng)?;
    let n = params.n_neighbors.unwrap_or(3);
    clean(input, grown, |step, all| {
        enn::kept(step, all, n, params.enn_kind, method)
    })
}

/// Applies a cleaning step with strategy `all` to SMOTE's output; the kept rows keep their
/// origins in the original input.
fn clean(
    input: &Input,
    grown: Resampled,
    cleaner: impl Fn(&Input, &BTreeMap<usize, usize>) -> Result<Vec<usize>>,
) -> Result<Resampled> {
    let step = Input::new(
        &grown.x,
        input.dim,
        &grown.y,
        input.counts.len(),
        input.names,
    )?;
    let all = SamplingStrategy::All.resolve_named(
        &step.counts,
        SamplingType::CleanSampling,
        input.names,
    )?;
    let kept = cleaner(&step, &all)?;
    Ok(grown.select(input.dim, &kept))
}
