//! The resampling methods by name, and what kind of sampler each is.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

use super::strategy::SamplingType;

/// A resampling method of imbalanced-learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `RandomOverSampler`: copies random rows of the classes to grow.
    RandomOver,
    /// `RandomUnderSampler`: keeps random rows of the classes to shrink.
    RandomUnder,
    /// `SMOTE`: new rows on segments between a row and its same-class neighbours.
    Smote,
    /// `BorderlineSMOTE(kind="borderline-1")`: SMOTE grown only from rows near other classes.
    Borderline1,
    /// `BorderlineSMOTE(kind="borderline-2")`: as borderline-1, also stepping part-way
    /// toward neighbours of other classes.
    Borderline2,
    /// `ADASYN`: SMOTE with more new rows where other classes crowd in.
    Adasyn,
    /// `TomekLinks`: removes rows that are mutual nearest neighbours of another class.
    Tomek,
    /// `EditedNearestNeighbours`: removes rows their neighbours disagree with.
    Enn,
    /// `NearMiss(version=1)`: keeps rows with the smallest mean distance to their nearest
    /// minority rows.
    NearMiss1,
    /// `NearMiss(version=2)`: keeps rows with the smallest mean distance to their farthest
    /// minority rows.
    NearMiss2,
    /// `NearMiss(version=3)`: keeps, among the rows nearest to minority rows, those farthest
    /// from the minority.
    NearMiss3,
    /// `SMOTETomek`: SMOTE, then Tomek links removed from every class.
    SmoteTomek,
    /// `SMOTEENN`: SMOTE, then ENN cleaning of every class.
    SmoteEnn,
}

impl Method {
    /// Every method, in the order `--help` lists them.
    pub const ALL: [Method; 13] = [
        Method::RandomOver,
        Method::RandomUnder,
        Method::Smote,
        Method::Borderline1,
        Method::Borderline2,
        Method::Adasyn,
        Method::Tomek,
        Method::Enn,
        Method::NearMiss1,
        Method::NearMiss2,
        Method::NearMiss3,
        Method::SmoteTomek,
        Method::SmoteEnn,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Method::RandomOver => "random-over",
            Method::RandomUnder => "random-under",
            Method::Smote => "smote",
            Method::Borderline1 => "borderline1",
            Method::Borderline2 => "borderline2",
            Method::Adasyn => "adasyn",
            Method::Tomek => "tomek",
            Method::Enn => "enn",
            Method::NearMiss1 => "nearmiss1",
            Method::NearMiss2 => "nearmiss2",
            Method::NearMiss3 => "nearmiss3",
            Method::SmoteTomek => "smote-tomek",
            Method::SmoteEnn => "smote-enn",
        }
    }

    /// How the sampling strategy is read for this method. The combined methods read it as
    /// their SMOTE step does; their cleaning step always cleans every class.
    pub fn sampling_type(self) -> SamplingType {
        match self {
            Method::RandomOver
            | Method::Smote
            | Method::Borderline1
            | Method::Borderline2
            | Method::Adasyn
            | Method::SmoteTomek
            | Method::SmoteEnn => SamplingType::OverSampling,
            Method::RandomUnder | Method::NearMiss1 | Method::NearMiss2 | Method::NearMiss3 => {
                SamplingType::UnderSampling
            }
            Method::Tomek | Method::Enn => SamplingType::CleanSampling,
        }
    }

    /// Whether the method makes new rows by interpolation (rather than only keeping or
    /// copying input rows): such rows have no value for a column that is not a number.
    pub fn synthesises(self) -> bool {
        matches!(
            self,
            Method::Smote
                | Method::Borderline1
                | Method::Borderline2
                | Method::Adasyn
                | Method::SmoteTomek
                | Method::SmoteEnn
        )
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = Error;
    fn from_str(text: &str) -> Result<Method> {
        let wanted = text.trim().to_ascii_lowercase();
        Method::ALL
            .into_iter()
            .find(|m| m.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
                Error::Invalid(format!(
                    "unknown resampling method '{text}'; choose one of: {}",
                    names.join(", ")
                ))
            })
    }
}

/// How Edited Nearest Neighbours decides that a row disagrees with its neighbours
/// (imbalanced-learn's `kind_sel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EnnKind {
    /// A row stays only if all its neighbours share its class (the default; removes more).
    #[default]
    All,
    /// A row stays if the most common class among its neighbours (the lowest on a tie) is
    /// its own.
    Mode,
}

impl fmt::Display for EnnKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EnnKind::All => "all",
            EnnKind::Mode => "mode",
        })
    }
}

impl FromStr for EnnKind {
    type Err = Error;
    fn from_str(text: &str) -> Result<EnnKind> {
        match text.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(EnnKind::All),
            "mode" => Ok(EnnKind::Mode),
            _ => Err(Error::Invalid(format!(
                "unknown ENN rule '{text}'; choose all or mode"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_list_every_method() {
        for method in Method::ALL {
            assert_eq!(method.to_string().parse::<Method>().unwrap(), method);
        }
        assert_eq!("SMOTE".parse::<Method>().unwrap(), Method::Smote);
        let err = "smoth".parse::<Method>().unwrap_err().to_string();
        assert!(err.contains("'smoth'"), "{err}");
        for method in Method::ALL {
            assert!(err.contains(method.name()), "{err}");
        }
        assert_eq!("mode".parse::<EnnKind>().unwrap(), EnnKind::Mode);
        assert!("most".parse::<EnnKind>().is_err());
    }
}
