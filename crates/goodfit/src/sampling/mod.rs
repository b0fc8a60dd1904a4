//! Resampling of numeric feature tables against class imbalance: imbalanced-learn 0.14's
//! samplers — random over- and under-sampling, SMOTE, borderline-SMOTE, ADASYN, Tomek
//! links, Edited Nearest Neighbours, NearMiss 1–3, SMOTE+Tomek and SMOTE+ENN
//! (`goodfit resample`).
//!
//! Deterministic methods (Tomek links, ENN, NearMiss) keep exactly the rows
//! imbalanced-learn keeps, given that equal distances are ordered by row (scikit-learn's
//! own tie order depends on its search and cannot be reproduced, so on data with exact
//! distance ties — duplicate rows, values on a grid — the kept rows can differ). Random
//! methods make the same kind of rows from a seeded ChaCha8 generator, since numpy's draws
//! cannot be repeated.

mod adasyn;
mod borderline;
mod combine;
mod enn;
mod method;
mod nearmiss;
mod neighbours;
mod random;
mod resample;
mod smote;
mod strategy;
mod tomek;

pub use adasyn::{adasyn_counts, adasyn_ratios};
pub use borderline::danger_indices;
pub use method::{EnnKind, Method};
pub use resample::{resample, Origin, ResampleParams, Resampled};
pub use strategy::{SamplingStrategy, SamplingType};

pub(crate) use resample::Names;
