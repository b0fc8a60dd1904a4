//! Turning class probabilities into decisions: tuned cut-offs and logit offsets.
//!
//! A classifier trained on imbalanced data puts the argmax boundary where the training prior
//! wants it. A [`DecisionRule`] moves the boundary without retraining: a cut-off on
//! p(positive) for two classes, additive offsets on the log-probabilities for more.
//! [`tune`] finds the rule that maximises an [`Objective`] on validation data;
//! [`DecisionRule::posthoc_adjustment`] is Menon et al.'s post-hoc logit adjustment.
//! Rules are saved with the model and applied by `predict` and `eval`.

mod apply;
mod cost;
mod objective;
mod rule;
mod tune;

pub use apply::{apply, predict_all};
pub use cost::read_cost_matrix;
pub use objective::{Objective, Scoring};
pub use rule::DecisionRule;
pub use tune::{tune, Tuned};
