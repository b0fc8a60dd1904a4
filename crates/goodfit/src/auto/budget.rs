//! How much a search may spend: wall-clock minutes, a number of trials, or both.

use std::time::Instant;

use crate::error::{Error, Result};

/// The limits of a search, and the clock it is measured on.
#[derive(Debug, Clone)]
pub struct Budget {
    /// Wall-clock seconds the search may take, when limited.
    seconds: Option<f64>,
    /// Trials the search may run, when limited.
    max_trials: Option<usize>,
    /// When the search started.
    start: Instant,
}

impl Budget {
    /// A budget of `minutes` of wall-clock time and/or `max_trials` trials, starting now. At
    /// least one limit is needed: a search without one would never end.
    pub fn new(minutes: Option<f64>, max_trials: Option<usize>) -> Result<Budget> {
        if let Some(m) = minutes {
            if !(m.is_finite() && m > 0.0) {
                return Err(Error::Invalid(format!(
                    "--budget-minutes must be a positive number, not {m}"
                )));
            }
        }
        if max_trials == Some(0) {
            return Err(Error::Invalid("--max-trials must be at least 1".into()));
        }
        if minutes.is_none() && max_trials.is_none() {
            return Err(Error::Invalid(
                "a search needs a budget: --budget-minutes M, --max-trials N or both".into(),
            ));
        }
        Ok(Budget {
            seconds: minutes.map(|m| m * 60.0),
            max_trials,
            start: Instant::now(),
        })
    }

    /// The time limit in seconds, when there is one.
    pub fn limit_seconds(&self) -> Option<f64> {
        self.seconds
    }

    /// The trial limit, when there is one.
    pub fn max_trials(&self) -> Option<usize> {
        self.max_trials
    }

    /// Seconds since the search started.
    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Seconds left (never negative), or `None` without a time limit.
    pub fn remaining(&self) -> Option<f64> {
        self.seconds.map(|s| (s - self.elapsed()).max(0.0))
    }

    /// Seconds left (never negative) within the first `share` of the time limit, or `None`
    /// without a time limit.
    pub fn left(&self, share: f64) -> Option<f64> {
        self.seconds.map(|s| (s * share - self.elapsed()).max(0.0))
    }

    /// Whether another trial may run after `done` trials.
    pub fn trials_left(&self, done: usize) -> bool {
        self.max_trials.is_none_or(|n| done < n)
    }

    /// Whether a trial estimated to take `estimated` seconds ends within the first `share`
    /// of the time limit (1 for all of it); one without an estimate (the first of its
    /// kind) fits while any of that time is left.
    pub fn fits(&self, estimated: Option<f64>, share: f64) -> bool {
        self.fits_after(self.elapsed(), estimated, share)
    }

    /// [`Budget::fits`] once `elapsed` seconds are spent.
    pub fn fits_after(&self, elapsed: f64, estimated: Option<f64>, share: f64) -> bool {
        match self.seconds {
            None => true,
            Some(limit) => {
                let left = limit * share - elapsed;
                left > 0.0 && estimated.is_none_or(|e| e <= left)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_and_trial_limits_each_stop_a_search() {
        let budget = Budget::new(Some(2.0), None).unwrap();
        assert!(budget.fits_after(0.0, Some(119.0), 1.0));
        assert!(!budget.fits_after(0.0, Some(121.0), 1.0));
        assert!(budget.fits_after(100.0, Some(20.0), 1.0));
        assert!(!budget.fits_after(100.0, Some(21.0), 1.0));
        assert!(
            budget.fits_after(119.0, None, 1.0),
            "no estimate: any time left"
        );
        assert!(!budget.fits_after(120.0, None, 1.0));
        // A quarter of the budget: 30 seconds.
        assert!(budget.fits_after(10.0, Some(20.0), 0.25));
        assert!(!budget.fits_after(10.0, Some(21.0), 0.25));
        assert!(!budget.fits_after(30.0, None, 0.25));
        assert!(budget.trials_left(1000));

        let trials = Budget::new(None, Some(3)).unwrap();
        assert!(trials.fits_after(1e9, Some(1e9), 0.25), "no time limit");
        assert!(trials.trials_left(2) && !trials.trials_left(3));
        assert_eq!(trials.remaining(), None);
    }

    #[test]
    fn bad_budgets_are_refused() {
        for (minutes, trials, message) in [
            (
                Some(0.0),
                None,
                "--budget-minutes must be a positive number",
            ),
            (
                Some(f64::NAN),
                Some(2),
                "--budget-minutes must be a positive number",
            ),
            (None, Some(0), "--max-trials must be at least 1"),
            (None, None, "needs a budget"),
        ] {
            let error = Budget::new(minutes, trials).unwrap_err().to_string();
            assert!(error.contains(message), "{error}");
        }
    }
}
