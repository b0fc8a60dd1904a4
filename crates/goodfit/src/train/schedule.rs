//! Learning-rate schedules: a linear warm-up followed by a linear, cosine or constant
//! phase, defined exactly as Hugging Face transformers defines them
//! (`get_linear_schedule_with_warmup`, `get_cosine_schedule_with_warmup` with
//! `num_cycles = 0.5`, `get_constant_schedule_with_warmup`).
//!
//! A schedule yields a *factor*; the optimizer multiplies each parameter group's base
//! learning rate by it (see [`crate::train::optimizer::AdamW::step`]), as torch's
//! `LambdaLR` does.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The shape of the schedule after warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    /// Linear decay from the base rate to zero at the last step (transformers' default).
    Linear,
    /// Half a cosine wave from the base rate to zero at the last step.
    Cosine,
    /// The base rate throughout. Unlike transformers' `"constant"` (which ignores
    /// warm-up), this honours the warm-up, like its `"constant_with_warmup"`; with no
    /// warm-up the two are the same.
    Constant,
}

impl ScheduleKind {
    /// The names accepted by [`FromStr`], for help texts and error messages.
    pub const CHOICES: [&'static str; 3] = ["linear", "cosine", "constant"];
}

impl FromStr for ScheduleKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "linear" => Ok(ScheduleKind::Linear),
            "cosine" => Ok(ScheduleKind::Cosine),
            "constant" => Ok(ScheduleKind::Constant),
            _ => Err(Error::Invalid(format!(
                "unknown learning-rate schedule '{s}' (the choices are: {})",
                Self::CHOICES.join(", ")
            ))),
        }
    }
}

impl fmt::Display for ScheduleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScheduleKind::Linear => "linear",
            ScheduleKind::Cosine => "cosine",
            ScheduleKind::Constant => "constant",
        })
    }
}

/// How long the warm-up lasts: a share of the total number of optimizer steps or a
/// fixed number of steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Warmup {
    /// A share of the total steps, in `[0, 1)`.
    Ratio(f64),
    /// A number of steps.
    Steps(usize),
}

impl Warmup {
    /// The number of warm-up steps for a run of `total` optimizer steps.
    ///
    /// A ratio is rounded up, as transformers' `TrainingArguments.get_warmup_steps`
    /// does (`math.ceil(num_training_steps * warmup_ratio)`), with the same
    /// double-precision product, so e.g. 0.07 of 100 steps is 8 there and here.
    pub fn steps(&self, total: usize) -> usize {
        match *self {
            // `as` saturates; the ratio is below 1 when parsed, and a hand-built
            // out-of-range one cannot produce more than `usize::MAX` anyway.
            Warmup::Ratio(r) => (total as f64 * r).ceil().max(0.0) as usize,
            Warmup::Steps(n) => n,
        }
    }
}

impl FromStr for Warmup {
    type Err = Error;

    /// `"0.1"` (anything with a '.', or a number below 1) is a ratio in `[0, 1)`;
    /// `"100"` (a whole number) is a step count; `"0"` is no warm-up.
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim();
        if !t.contains('.') {
            if let Ok(n) = t.parse::<usize>() {
                return Ok(Warmup::Steps(n));
            }
        }
        let bad = || {
            Error::Invalid(format!(
                "invalid warm-up '{s}': write a ratio of the total steps in [0, 1) such as \
                 0.1, or a whole number of steps such as 100"
            ))
        };
        let r: f64 = t.parse().map_err(|_| bad())?;
        if r.is_finite() && (0.0..1.0).contains(&r) {
            Ok(Warmup::Ratio(r))
        } else {
            Err(bad())
        }
    }
}

impl fmt::Display for Warmup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // `{:?}` keeps the '.' (0 → "0.0") so the text parses back as a ratio.
            Warmup::Ratio(r) => write!(f, "{r:?}"),
            Warmup::Steps(n) => write!(f, "{n}"),
        }
    }
}

/// A learning-rate schedule over a run of `total_steps` optimizer steps.
///
/// [`factor`](Self::factor) takes the number of optimizer steps already taken: the
/// first update uses `factor(0)`, the second `factor(1)`, and so on. That is how
/// transformers' schedules run under torch's `LambdaLR`: the lambda is evaluated at
/// the step count *before* each optimizer step (`optimizer.step()` then
/// `scheduler.step()`), so with warm-up the very first update has learning rate 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LrSchedule {
    /// The shape after warm-up.
    pub kind: ScheduleKind,
    /// Steps of linear warm-up from 0 to the base rate.
    pub warmup_steps: usize,
    /// The total number of optimizer steps of the run.
    pub total_steps: usize,
}

impl LrSchedule {
    /// A schedule with warm-up given as a step count or a ratio of `total_steps`.
    pub fn new(kind: ScheduleKind, warmup: Warmup, total_steps: usize) -> Self {
        LrSchedule {
            kind,
            warmup_steps: warmup.steps(total_steps),
            total_steps,
        }
    }

    /// The learning-rate multiplier for the update that follows `step` completed
    /// optimizer steps (see the type's documentation). Never negative. Past
    /// `total_steps`, linear stays at 0 while cosine follows the wave back up, both
    /// exactly as in transformers; callers stop at `total_steps`.
    pub fn factor(&self, step: usize) -> f64 {
        // Signed f64 arithmetic mirrors Python's unbounded integers: `total - step`
        // may be negative past the end, where usize would wrap.
        let step_f = step as f64;
        let warmup = self.warmup_steps as f64;
        let total = self.total_steps as f64;
        if step < self.warmup_steps {
            return step_f / warmup.max(1.0);
        }
        let decay_len = (total - warmup).max(1.0);
        match self.kind {
            ScheduleKind::Linear => ((total - step_f) / decay_len).max(0.0),
            ScheduleKind::Cosine => {
                let num_cycles = 0.5;
                let progress = (step_f - warmup) / decay_len;
                (0.5 * (1.0 + (std::f64::consts::PI * num_cycles * 2.0 * progress).cos())).max(0.0)
            }
            ScheduleKind::Constant => 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Factors printed by `scripts/reference-optimizer.py` (section "schedules"), which
    /// transcribes transformers' `_get_linear_schedule_with_warmup_lr_lambda`,
    /// `_get_cosine_schedule_with_warmup_lr_lambda` (num_cycles=0.5) and
    /// `_get_constant_schedule_with_warmup_lr_lambda` (transformers 4.x/5.x
    /// `optimization.py`). Warm-up 10, total 100.
    const STEPS: [usize; 10] = [0, 1, 5, 9, 10, 11, 37, 99, 100, 120];
    const LINEAR: [f64; 10] = [
        0.0,
        0.1,
        0.5,
        0.9,
        1.0,
        0.9888888888888889,
        0.7,
        0.011111111111111112,
        0.0,
        0.0,
    ];
    const COSINE: [f64; 10] = [
        0.0,
        0.1,
        0.5,
        0.9,
        1.0,
        0.9996954135095479,
        0.7938926261462366,
        0.00030458649045211894,
        0.0,
        // Past the end the cosine rises again in transformers too.
        0.116977778440511,
    ];
    const CONSTANT: [f64; 10] = [0.0, 0.1, 0.5, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];

    fn check(kind: ScheduleKind, expected: &[f64]) {
        let s = LrSchedule::new(kind, Warmup::Steps(10), 100);
        for (&step, &want) in STEPS.iter().zip(expected) {
            let got = s.factor(step);
            assert!(
                (got - want).abs() <= 1e-15,
                "{kind} step {step}: {got} != {want}"
            );
        }
    }

    #[test]
    fn factors_match_transformers() {
        check(ScheduleKind::Linear, &LINEAR);
        check(ScheduleKind::Cosine, &COSINE);
        check(ScheduleKind::Constant, &CONSTANT);
    }

    #[test]
    fn no_warmup_and_degenerate_lengths() {
        // No warm-up: the first update gets the full rate.
        let s = LrSchedule::new(ScheduleKind::Linear, Warmup::Steps(0), 4);
        let f: Vec<f64> = (0..5).map(|i| s.factor(i)).collect();
        assert_eq!(f, [1.0, 0.75, 0.5, 0.25, 0.0]);
        // Zero total steps and warm-up longer than the run must not divide by zero
        // or go negative (transformers' max(1, ...) guards).
        let s = LrSchedule::new(ScheduleKind::Cosine, Warmup::Steps(0), 0);
        assert_eq!(s.factor(0), 0.5 * (1.0 + 0.0f64.cos()));
        let s = LrSchedule::new(ScheduleKind::Linear, Warmup::Steps(20), 10);
        assert_eq!(s.factor(5), 0.25);
        assert_eq!(s.factor(20), 0.0);
    }

    #[test]
    fn warmup_ratio_rounds_up_like_transformers() {
        // Python: math.ceil(100 * 0.07) == 8 because 100 * 0.07 == 7.000000000000001.
        assert_eq!(Warmup::Ratio(0.07).steps(100), 8);
        assert_eq!(Warmup::Ratio(0.1).steps(1000), 100);
        assert_eq!(Warmup::Ratio(0.06).steps(250), 15);
        assert_eq!(Warmup::Ratio(0.1).steps(3), 1);
        assert_eq!(Warmup::Ratio(0.0).steps(3), 0);
        assert_eq!(Warmup::Steps(7).steps(3), 7);
    }

    #[test]
    fn parsing() {
        assert_eq!("0.1".parse::<Warmup>().unwrap(), Warmup::Ratio(0.1));
        assert_eq!(".25".parse::<Warmup>().unwrap(), Warmup::Ratio(0.25));
        assert_eq!("0.0".parse::<Warmup>().unwrap(), Warmup::Ratio(0.0));
        assert_eq!("5e-2".parse::<Warmup>().unwrap(), Warmup::Ratio(0.05));
        assert_eq!("100".parse::<Warmup>().unwrap(), Warmup::Steps(100));
        assert_eq!(" 0 ".parse::<Warmup>().unwrap(), Warmup::Steps(0));
        for bad in ["1.0", "1.5", "-0.1", "-3", "abc", "", "NaN", "inf", "1e2"] {
            let err = bad.parse::<Warmup>().unwrap_err().to_string();
            assert!(err.contains("ratio"), "{bad}: {err}");
        }
        for w in [Warmup::Ratio(0.0), Warmup::Ratio(0.06), Warmup::Steps(3)] {
            assert_eq!(w.to_string().parse::<Warmup>().unwrap(), w);
        }

        assert_eq!(
            "Cosine".parse::<ScheduleKind>().unwrap(),
            ScheduleKind::Cosine
        );
        for k in [
            ScheduleKind::Linear,
            ScheduleKind::Cosine,
            ScheduleKind::Constant,
        ] {
            assert_eq!(k.to_string().parse::<ScheduleKind>().unwrap(), k);
        }
        let err = "polynomial"
            .parse::<ScheduleKind>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("linear, cosine, constant"), "{err}");
    }

    #[test]
    fn serde_names_are_lowercase() {
        let s = LrSchedule::new(ScheduleKind::Cosine, Warmup::Steps(3), 9);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"cosine","warmup_steps":3,"total_steps":9}"#
        );
        assert_eq!(serde_json::from_str::<LrSchedule>(&json).unwrap(), s);
        assert_eq!(
            serde_json::to_string(&Warmup::Ratio(0.1)).unwrap(),
            r#"{"ratio":0.1}"#
        );
    }
}
