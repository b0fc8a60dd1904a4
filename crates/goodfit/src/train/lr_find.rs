//! The learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training Neural
//! Networks", §3.3), as fastai's `Learner.lr_find` runs it: from a fresh classifier, one
//! optimizer step per batch with the learning rate growing exponentially from `start_lr` to
//! `end_lr`, recording the loss smoothed as fastai's `AvgSmoothLoss(beta=0.98)` does; the
//! test stops when the smoothed loss exceeds 4× its lowest (the model diverges) or is not
//! finite. Unlike fastai, the lowest is tracked only from the end of the curve's first
//! tenth (see [`DivergenceWatch`]). The suggestion is fastai's default, `valley`: the longest stretch over which
//! the loss keeps falling, and a point about two thirds of the way down it, computed on the
//! curve without its first tenth and last five steps (fastai's `lr_find` slices
//! `[num_it//10:-5]` likewise).
//!
//! Both learning rates sweep together, the head's staying `head_lr / lr` times the
//! encoder's, as the run that follows would use them; with a frozen encoder
//! (`--train-layers 0`) the sweep is of the head's.

use candle_core::{Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Example, TrainLayers};

use super::batching::training_epoch;
use super::frozen::pooled_rows;
use super::imbalance::class_counts;
use super::loss::{classification_loss, LossSpec};
use super::observer::Observer;
use super::optimizer::{clip_coefficient, grad_norm, AdamW, AdamWConfig};
use super::param_groups::param_groups;
use super::trainer::Session;
use super::TrainConfig;

/// The least fall of the smoothed loss, as a share of its value where the suggestion's
/// curve starts, for a suggestion. A curve that stays flat until it diverges has no
/// valley worth the name, and `valley` would still pick a point on it: on 300 food
/// reviews the loss fell 4-6% and the suggested rates (3.6e-4 to 5.2e-4) cost the
/// fine-tune 0.073 test macro-F1 against the default 1e-4, one seed collapsing; on the
/// fortune topics it fell 21-23% and the suggestion matched the default
/// (`benches/auto/README.md`).
pub const MIN_DROP: f64 = 0.10;

/// The sweep's range and length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LrFindSettings {
    /// The first learning rate.
    pub start_lr: f64,
    /// The last.
    pub end_lr: f64,
    /// Optimizer steps (batches), at most.
    pub steps: usize,
}

impl Default for LrFindSettings {
    /// fastai's defaults: 1e-7 to 10 in 100 steps.
    fn default() -> Self {
        LrFindSettings {
            start_lr: 1e-7,
            end_lr: 10.0,
            steps: 100,
        }
    }
}

impl LrFindSettings {
    /// Refuses a range that cannot sweep.
    pub fn validate(&self) -> Result<()> {
        if !(self.start_lr.is_finite() && self.start_lr > 0.0) {
            return Err(Error::Invalid(format!(
                "--start-lr must be a positive number, not {}",
                self.start_lr
            )));
        }
        if !(self.end_lr.is_finite() && self.end_lr > self.start_lr) {
            return Err(Error::Invalid(format!(
                "--end-lr must be a number above --start-lr ({}), not {}",
                self.start_lr, self.end_lr
            )));
        }
        if self.steps < 10 {
            return Err(Error::Invalid(format!(
                "--steps must be at least 10 (the curve needs points to suggest from), not {}",
                self.steps
            )));
        }
        Ok(())
    }
}

/// One step of the sweep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LrPoint {
    /// The swept learning rate at this step.
    pub lr: f64,
    /// The batch's loss.
    pub loss: f64,
    /// The smoothed loss.
    pub smoothed: f64,
}

/// The result of a range test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LrFind {
    /// Which setting swept: `lr` (the encoder's; the head's moved with it) or `head_lr`.
    pub swept: String,
    /// The head's learning rate over the encoder's, kept through the sweep.
    pub head_ratio: f64,
    /// Every step taken.
    pub points: Vec<LrPoint>,
    /// Why the sweep ended.
    pub stopped: String,
    /// The suggested value of the swept setting, when the curve has a valley.
    pub suggestion: Option<f64>,
    /// The head's learning rate that goes with it.
    pub suggested_head_lr: Option<f64>,
    /// The suggestion as flags, or why there is none.
    pub advice: String,
}

/// Runs the range test on the training split of `session`'s data with its configuration
/// (layers, loss, batch size, clipping), from a fresh classifier each time.
pub fn lr_find(
    session: &Session,
    settings: LrFindSettings,
    observer: &dyn Observer,
) -> Result<LrFind> {
    settings.validate()?;
    let config: &TrainConfig = &session.config;
    let data = &session.data;
    let head_only = config.train_layers == TrainLayers::Top(0);
    let (swept, base) = if head_only {
        ("head_lr", config.head_lr)
    } else {
        ("lr", config.lr)
    };
    let (classifier, params) = session.build()?;
    let vars: Vec<Var> = params.vars().values().cloned().collect();
    let places = classifier.places(params.vars().keys());
    let mut optimizer = AdamW::new(
        param_groups(params.vars(), &places, config),
        AdamWConfig::default(),
    )?;
    let train = &data.train;
    let cached = session.cache.as_ref().map(|c| &c.train);
    let loss_spec = LossSpec::of(config, &class_counts(&train.targets, data.labels.len()));
    let lengths: Vec<usize> = train.encoded.iter().map(Example::size).collect();
    let collator = session.collator();
    let features = head_only && cached.is_some();
    let grouping = (config.group_by_length && !features).then_some(lengths.as_slice());

    let ratio = (settings.end_lr / settings.start_lr).ln();
    let lr_at =
        |step: usize| settings.start_lr * (ratio * step as f64 / (settings.steps - 1) as f64).exp();
    let mut points: Vec<LrPoint> = Vec::with_capacity(settings.steps);
    let (beta, mut average) = (0.98f64, 0.0f64);
    // The suggestion reads the curve from here on (fastai's `[num_it//10:-5]`).
    let skip = settings.steps / 10;
    let mut watch = DivergenceWatch::from_step(skip);
    let mut stopped = format!("all {} steps ran", settings.steps);
    observer.epoch_start(1, 1, settings.steps);
    let mut epoch = 0;
    'sweep: loop {
        epoch += 1;
        let (batches, mut mode) =
            training_epoch(config, &train.targets, data.labels.len(), epoch, grouping)?;
        for rows in &batches {
            let step = points.len();
            if step == settings.steps {
                break 'sweep;
            }
            let targets: Vec<usize> = rows.iter().map(|&r| train.targets[r]).collect();
            let pooled = pooled_rows(
                &classifier,
                &train.encoded,
                rows,
                cached,
                &mut mode,
                &collator,
            )?;
            let logits = classifier.classify(&pooled, &mut mode)?;
            let loss_tensor: Tensor = classification_loss(&logits, &targets, &loss_spec)?;
            let loss = loss_tensor.to_scalar::<f32>()? as f64;
            average = beta * average + (1.0 - beta) * loss;
            let smoothed = average / (1.0 - beta.powi(step as i32 + 1));
            let lr = lr_at(step);
            points.push(LrPoint { lr, loss, smoothed });
            observer.batch_end(loss);
            if !smoothed.is_finite() {
                stopped = format!("the loss is not finite at step {}", step + 1);
                break 'sweep;
            }
            if watch.diverged(step, smoothed) {
                stopped = format!(
                    "the loss diverged at step {} (over 4× its lowest)",
                    step + 1
                );
                break 'sweep;
            }
            let grads = loss_tensor.backward()?;
            let norm = grad_norm(&grads, vars.iter())?;
            if !norm.is_finite() {
                stopped = format!("the gradient is not finite at step {}", step + 1);
                break 'sweep;
            }
            let scale = if config.grad_clip > 0.0 {
                clip_coefficient(norm, config.grad_clip)?
            } else {
                1.0
            };
            optimizer.step_with_grad_scale(&grads, lr / base, scale)?;
        }
        if batches.is_empty() {
            return Err(Error::Invalid("no training examples to sweep over".into()));
        }
    }
    let head_ratio = config.head_lr / config.lr;
    let smoothed: Vec<f64> = points.iter().map(|p| p.smoothed).collect();
    let kept = smoothed.len().saturating_sub(5);
    let curve = if kept > skip + 1 {
        &smoothed[skip..kept]
    } else {
        &[][..]
    };
    let drop = curve
        .first()
        .map(|&start| 1.0 - curve.iter().copied().fold(start, f64::min) / start);
    let suggestion = valley(curve)
        .filter(|_| drop.is_some_and(|d| d >= MIN_DROP))
        .map(|i| points[skip + i].lr);
    let suggested_head_lr = suggestion.map(|lr| if head_only { lr } else { lr * head_ratio });
    let advice = match (suggestion, suggested_head_lr, drop) {
        (Some(lr), Some(_), _) if head_only => format!("--head-lr {}", two_digits(lr)),
        (Some(lr), Some(head), _) => {
            format!("--lr {} --head-lr {}", two_digits(lr), two_digits(head))
        }
        (_, _, Some(drop)) => format!(
            "no suggestion: the loss fell only {:.0}% before it rose ({stopped}), so no rate stands out; keep the configured one",
            drop * 100.0
        ),
        _ => format!(
            "no suggestion: {} steps are too few for a curve ({stopped}); widen the range or add --steps",
            points.len()
        ),
    };
    Ok(LrFind {
        swept: swept.into(),
        head_ratio,
        points,
        stopped,
        suggestion,
        suggested_head_lr,
        advice,
    })
}

/// fastai's stop rule — the smoothed loss above 4× its lowest — with the lowest tracked
/// only from `from_step` on. In the first steps the debiased average is the mean of a
/// handful of batches, and at learning rates of 1e-7 to 1e-6 nothing can diverge; yet with
/// rare classes (and the logit-adjusted loss, goodfit's default for them) a batch without
/// a rare row scores near zero and the next one with it several times that. On fine_foods
/// cut to 1:20 the first batch's 0.047 made a smoothed 0.19 at step 15 (lr 1.4e-6) a
/// "divergence", ending the sweep before the curve the suggestion reads had begun.
struct DivergenceWatch {
    from_step: usize,
    best: f64,
}

impl DivergenceWatch {
    fn from_step(from_step: usize) -> Self {
        DivergenceWatch {
            from_step,
            best: f64::INFINITY,
        }
    }

    /// Whether the smoothed loss at (0-based) `step` has diverged.
    fn diverged(&mut self, step: usize, smoothed: f64) -> bool {
        if step < self.from_step {
            return false;
        }
        self.best = self.best.min(smoothed);
        smoothed > 4.0 * self.best
    }
}

/// fastai's `valley`, transcribed: the longest decreasing subsequence of `losses` (the same
/// O(n²) recurrence, ties broken as it breaks them), and the index a third plus a sixth of
/// the way along it. Its start is `end − length`, one before the first point (−1 for a run
/// from the first point, as in the Python), which the arithmetic here keeps. `None` for an
/// empty curve.
pub fn valley(losses: &[f64]) -> Option<usize> {
    let n = losses.len();
    if n == 0 {
        return None;
    }
    let (mut max_start, mut max_end) = (0i64, 0usize);
    let mut lds = vec![1usize; n];
    for i in 1..n {
        for j in 0..i {
            if losses[i] < losses[j] && lds[i] < lds[j] + 1 {
                lds[i] = lds[j] + 1;
            }
            if lds[max_end] < lds[i] {
                max_end = i;
                max_start = max_end as i64 - lds[max_end] as i64;
            }
        }
    }
    let sections = (max_end as i64 - max_start) as f64 / 3.0;
    let index = max_start + sections as i64 + (sections / 2.0) as i64;
    Some(index.clamp(0, n as i64 - 1) as usize)
}

/// `x` to 2 significant digits, as a flag a person will type (`1.4e-4`).
fn two_digits(x: f64) -> String {
    format!("{x:.1e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valley_matches_fastai() {
        // fastai.callback.schedule.valley (transcribed into plain Python, as it runs on
        // lists) gives 2, 3, 0 and 1 for these curves.
        assert_eq!(
            valley(&[2.0, 1.9, 1.7, 1.4, 1.0, 0.7, 0.6, 0.9, 3.0]),
            Some(2)
        );
        assert_eq!(
            valley(&[2.5, 2.6, 1.9, 1.7, 1.4, 1.0, 0.7, 0.6, 0.9, 3.0]),
            Some(3)
        );
        assert_eq!(valley(&[1.0]), Some(0));
        assert_eq!(valley(&[3.0, 1.0, 2.0, 0.5, 0.4, 5.0]), Some(1));
        assert_eq!(valley(&[]), None);
    }

    #[test]
    fn divergence_is_judged_from_the_curves_start() {
        // The smoothed losses of `goodfit lr-find` on fine_foods cut to 1:20 with the
        // logit-adjusted loss (seed 43, 100 steps from 1e-7): fastai's rule stops at step
        // 15, at lr 1.4e-6, where 0.194 is over 4× the first batch's 0.047.
        let start = [
            0.0473, 0.1443, 0.1112, 0.0948, 0.0846, 0.0780, 0.1009, 0.0937, 0.1341, 0.1246, 0.1168,
            0.1628, 0.1696, 0.1755, 0.1944,
        ];
        let stop = |from_step: usize, curve: &[f64]| {
            let mut watch = DivergenceWatch::from_step(from_step);
            curve
                .iter()
                .enumerate()
                .position(|(step, &l)| watch.diverged(step, l))
        };
        assert_eq!(stop(0, &start), Some(14));
        assert_eq!(stop(10, &start), None);
        // From step 10 the lowest is 0.1168; a rise past 4× that still stops the sweep.
        let rising: Vec<f64> = start.iter().copied().chain([0.3, 0.46, 0.5]).collect();
        assert_eq!(stop(10, &rising), Some(17));
    }

    #[test]
    fn suggestions_read_as_flags() {
        assert_eq!(two_digits(0.000_140_000_000_000_000_01), "1.4e-4");
        assert_eq!(two_digits(3.456e-5), "3.5e-5");
    }
}
