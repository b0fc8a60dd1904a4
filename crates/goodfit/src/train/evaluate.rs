//! Running a classifier without dropout over many examples, and scoring the result.

use std::path::Path;

use candle_core::Device;

use crate::data::LabelMap;
use crate::error::Result;
use crate::metrics::{self, Metrics};
use crate::model::{registry, Classifier, Collator, Example, Mode, SavedClassifier};

use super::batching::eval_batches;
use super::data::Examples;
use super::frozen::{pooled_rows, Precomputed};
use super::observer::Observer;
use super::session::Session;

/// Raw logits of every class for `rows` of `encoded`, in the order of `rows`, from
/// `precomputed` frozen-part outputs when given (see [`pooled_rows`]).
///
/// Batches are sorted by length so that little padding is computed; `after_batch` is called
/// with the number of examples done (for a progress bar).
#[allow(clippy::too_many_arguments)]
pub fn predict_logits(
    classifier: &Classifier,
    encoded: &[Example],
    rows: &[usize],
    precomputed: Option<&Precomputed>,
    batch_size: usize,
    collator: &Collator,
    after_batch: &mut dyn FnMut(usize),
) -> Result<Vec<Vec<f64>>> {
    let lengths: Vec<usize> = encoded.iter().map(Example::size).collect();
    let position: std::collections::HashMap<usize, usize> =
        rows.iter().enumerate().map(|(i, &r)| (r, i)).collect();
    let mut out = vec![Vec::new(); rows.len()];
    let mut mode = Mode::eval();
    for batch_rows in eval_batches(rows, batch_size, &lengths) {
        let pooled = pooled_rows(
            classifier,
            encoded,
            &batch_rows,
            precomputed,
            &mut mode,
            collator,
        )?;
        let logits: Vec<Vec<f32>> = classifier.classify(&pooled, &mut mode)?.to_vec2()?;
        for (row, logits) in batch_rows.iter().zip(logits) {
            out[position[row]] = logits.iter().map(|&z| f64::from(z)).collect();
        }
        after_batch(batch_rows.len());
    }
    Ok(out)
}

/// Logits of `texts` (for an image model, image paths relative to the data file `source`'s
/// folder) from a saved classifier, in order (see [`log_softmax`] for probabilities);
/// `after_batch` is called with the number of texts done.
pub fn predict_texts(
    saved: &SavedClassifier,
    texts: &[String],
    source: &Path,
    batch_size: usize,
    after_batch: &mut dyn FnMut(usize),
) -> Result<Vec<Vec<f64>>> {
    let encoded =
        registry::preprocessor(&saved.folder)?.examples(texts, source, saved.info.max_len)?;
    let rows: Vec<usize> = (0..texts.len()).collect();
    predict_logits(
        &saved.classifier,
        &encoded,
        &rows,
        None,
        batch_size,
        &saved.folder.collator(Device::Cpu),
        after_batch,
    )
}

/// A numerically stable log-softmax in f64.
pub fn log_softmax(logits: &[f64]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_sum = logits.iter().map(|&z| (z - max).exp()).sum::<f64>().ln();
    logits.iter().map(|&z| z - max - log_sum).collect()
}

/// Probabilities from logits (a softmax in f64).
pub fn softmax(logits: &[f64]) -> Vec<f64> {
    log_softmax(logits).into_iter().map(f64::exp).collect()
}

/// A scored set of examples.
pub struct Scored {
    /// Mean negative log-likelihood of the true classes.
    pub loss: f64,
    /// The full metric suite.
    pub metrics: Metrics,
    /// Class probabilities of each example.
    pub proba: Vec<Vec<f64>>,
}

/// The mean negative log-likelihood of the true classes, and the full metric suite, from
/// logits.
pub fn score(logits: &[Vec<f64>], targets: &[usize], labels: &LabelMap) -> Result<Scored> {
    let log_proba: Vec<Vec<f64>> = logits.iter().map(|z| log_softmax(z)).collect();
    let loss = log_proba
        .iter()
        .zip(targets)
        .map(|(lp, &t)| -lp[t])
        .sum::<f64>()
        / targets.len().max(1) as f64;
    let proba: Vec<Vec<f64>> = log_proba
        .iter()
        .map(|lp| lp.iter().map(|v| v.exp()).collect())
        .collect();
    let predicted: Vec<usize> = proba
        .iter()
        .map(|p| crate::data::predictions::argmax(p))
        .collect();
    let metrics = metrics::compute(targets, &predicted, Some(&proba), labels)?;
    Ok(Scored {
        loss,
        metrics,
        proba,
    })
}

/// What evaluating needs besides the classifier and the examples.
pub(crate) struct Scorer<'a> {
    batch_size: usize,
    collator: Collator,
    labels: &'a LabelMap,
    observer: &'a dyn Observer,
}

impl<'a> Scorer<'a> {
    pub(crate) fn new(session: &'a Session, observer: &'a dyn Observer) -> Scorer<'a> {
        Scorer {
            batch_size: session.config.eval_batch_size,
            collator: session.collator(),
            labels: &session.data.labels,
            observer,
        }
    }

    /// Loss, metrics and probabilities of `classifier` on `rows` of `examples` (all of them
    /// when `None`), from `cached` features when the encoder is frozen.
    pub(crate) fn score(
        &self,
        classifier: &Classifier,
        examples: &Examples,
        cached: Option<&Precomputed>,
        rows: Option<&[usize]>,
        what: &str,
    ) -> Result<Scored> {
        let all: Vec<usize>;
        let rows = match rows {
            Some(rows) => rows,
            None => {
                all = (0..examples.len()).collect();
                &all
            }
        };
        let targets: Vec<usize> = rows.iter().map(|&r| examples.targets[r]).collect();
        let head_only = matches!(cached, Some(Precomputed::Features(_)));
        if !head_only {
            self.observer.eval_start(what, rows.len());
        }
        let logits = predict_logits(
            classifier,
            &examples.encoded,
            rows,
            cached,
            self.batch_size,
            &self.collator,
            &mut |n| {
                if !head_only {
                    self.observer.eval_progress(n)
                }
            },
        )?;
        score(&logits, &targets, self.labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_softmax_is_stable_and_normalised() {
        let lp = log_softmax(&[1000.0, 1000.0]);
        assert!((lp[0] - (0.5f64).ln()).abs() < 1e-12);
        let total: f64 = log_softmax(&[0.3, -2.0, 5.0]).iter().map(|v| v.exp()).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }
}
