//! Early stopping on a monitored validation quantity, remembering the best epoch.

use serde::{Deserialize, Serialize};

/// What one epoch's value meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new best: keep these weights.
    Improved,
    /// No improvement, but patience is not used up.
    NotImproved,
    /// No improvement for `patience` epochs in a row: stop.
    Stop,
}

/// Tracks the best value of the monitored quantity, as Hugging Face's
/// `EarlyStoppingCallback` does with `load_best_model_at_end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    higher_is_better: bool,
    patience: usize,
    min_delta: f64,
    /// The best value so far.
    pub best: Option<f64>,
    /// The epoch (1-based) that reached it.
    pub best_epoch: Option<usize>,
    /// Epochs since the last improvement.
    pub bad_epochs: usize,
}

impl EarlyStopping {
    /// Watches a quantity where `higher_is_better` says which way is up. A change smaller
    /// than `min_delta` is no improvement; `patience` 0 never stops.
    pub fn new(higher_is_better: bool, patience: usize, min_delta: f64) -> Self {
        EarlyStopping {
            higher_is_better,
            patience,
            min_delta,
            best: None,
            best_epoch: None,
            bad_epochs: 0,
        }
    }

    /// Records `epoch`'s value; an undefined value is never an improvement.
    pub fn update(&mut self, epoch: usize, value: Option<f64>) -> Outcome {
        let improved = match (value, self.best) {
            (Some(v), None) => v.is_finite(),
            (Some(v), Some(best)) if self.higher_is_better => v > best + self.min_delta,
            (Some(v), Some(best)) => v < best - self.min_delta,
            (None, _) => false,
        };
        if improved {
            self.best = value;
            self.best_epoch = Some(epoch);
            self.bad_epochs = 0;
            return Outcome::Improved;
        }
        self.bad_epochs += 1;
        if self.patience > 0 && self.bad_epochs >= self.patience {
            Outcome::Stop
        } else {
            Outcome::NotImproved
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_after_patience_epochs_without_improvement() {
        let mut watch = EarlyStopping::new(false, 2, 0.01);
        assert_eq!(watch.update(1, Some(1.0)), Outcome::Improved);
        assert_eq!(watch.update(2, Some(0.8)), Outcome::Improved);
        assert_eq!(
            watch.update(3, Some(0.795)),
            Outcome::NotImproved,
            "within min_delta"
        );
        assert_eq!(watch.update(4, Some(0.9)), Outcome::Stop);
        assert_eq!((watch.best, watch.best_epoch), (Some(0.8), Some(2)));
    }

    #[test]
    fn higher_is_better_and_patience_zero_never_stops() {
        let mut watch = EarlyStopping::new(true, 0, 0.0);
        assert_eq!(watch.update(1, Some(0.5)), Outcome::Improved);
        for epoch in 2..10 {
            assert_eq!(watch.update(epoch, Some(0.4)), Outcome::NotImproved);
        }
        assert_eq!(watch.update(10, None), Outcome::NotImproved);
        assert_eq!(watch.update(11, Some(0.6)), Outcome::Improved);
    }
}
