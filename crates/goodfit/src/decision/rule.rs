//! A saved decision rule: how probabilities become a predicted class.

use serde::{Deserialize, Serialize};

/// How a predicted class is chosen from class probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DecisionRule {
    /// Two classes: `positive` when its probability is at least `cutoff`, else the other.
    Cutoff {
        /// The class the cut-off is on.
        positive: usize,
        /// The smallest probability of `positive` that predicts it.
        cutoff: f64,
    },
    /// The class with the largest `log p_c + offsets[c]`.
    Offsets {
        /// One additive offset per class on the log-probabilities (equivalently, the logits).
        offsets: Vec<f64>,
    },
}

impl DecisionRule {
    /// Post-hoc logit adjustment (Menon et al. 2021, eq. 9): predict
    /// `argmax_c (log p_c − τ · log π_c)` with `π` the training class prior, which undoes the
    /// prior the model learnt and at τ = 1 aims at balanced error.
    pub fn posthoc_adjustment(prior: &[f64], tau: f64) -> DecisionRule {
        DecisionRule::Offsets {
            offsets: prior.iter().map(|p| -tau * p.ln()).collect(),
        }
    }

    /// The predicted class for one example's log-probabilities.
    pub fn predict(&self, log_proba: &[f64]) -> usize {
        match self {
            DecisionRule::Cutoff { positive, cutoff } => {
                if log_proba[*positive].exp() >= *cutoff {
                    *positive
                } else {
                    1 - positive
                }
            }
            DecisionRule::Offsets { offsets } => {
                let mut best = 0;
                for c in 1..log_proba.len() {
                    if log_proba[c] + offsets[c] > log_proba[best] + offsets[best] {
                        best = c;
                    }
                }
                best
            }
        }
    }

    /// One line for people: `p(pos) ≥ 0.31` or the offsets.
    pub fn describe(&self, labels: &crate::data::LabelMap) -> String {
        match self {
            DecisionRule::Cutoff { positive, cutoff } => {
                format!("predict '{}' when p ≥ {cutoff:.4}", labels.label(*positive))
            }
            DecisionRule::Offsets { offsets } => {
                let parts: Vec<String> = offsets
                    .iter()
                    .enumerate()
                    .map(|(c, o)| format!("{} {o:+.3}", labels.label(c)))
                    .collect();
                format!("logit offsets: {}", parts.join(", "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoff_and_offsets_decide_as_documented() {
        let rule = DecisionRule::Cutoff {
            positive: 1,
            cutoff: 0.3,
        };
        assert_eq!(rule.predict(&[0.7f64.ln(), 0.3f64.ln()]), 1);
        assert_eq!(rule.predict(&[0.71f64.ln(), 0.29f64.ln()]), 0);
        // Prior 0.9 / 0.1 at τ = 1: offsets +0.105 and +2.303; p = (0.85, 0.15) becomes
        // log 0.85 + 0.105 = −0.057 against log 0.15 + 2.303 = 0.405: class 1.
        let posthoc = DecisionRule::posthoc_adjustment(&[0.9, 0.1], 1.0);
        assert_eq!(posthoc.predict(&[0.85f64.ln(), 0.15f64.ln()]), 1);
        assert_eq!(posthoc.predict(&[0.95f64.ln(), 0.05f64.ln()]), 0);
        let json = serde_json::to_string(&rule).unwrap();
        assert_eq!(json, r#"{"kind":"cutoff","positive":1,"cutoff":0.3}"#);
        assert_eq!(serde_json::from_str::<DecisionRule>(&json).unwrap(), rule);
    }
}
