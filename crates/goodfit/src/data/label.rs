//! Class labels and the label map: the stable, sorted order in which classes are numbered.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One class label as it appears in a data file: an integer or a string.
///
/// Integers sort numerically and strings lexicographically, as `numpy.unique` does,
/// so class indices are the same as scikit-learn's `LabelEncoder` would give.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    /// An integer label (`0`, `1`, `-3`); in CSV files, a field that is exactly an integer.
    Int(i64),
    /// Any other label (`"positive"`, `"2.5"`).
    Text(String),
}

impl Label {
    /// Reads a label from the text of a CSV field: canonical integers become [`Label::Int`].
    pub fn parse(text: &str) -> Label {
        match text.parse::<i64>() {
            Ok(value) if value.to_string() == text => Label::Int(value),
            _ => Label::Text(text.to_string()),
        }
    }

    /// The label as text (integers in decimal).
    pub fn as_text(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Int(value) => write!(f, "{value}"),
            Label::Text(text) => f.write_str(text),
        }
    }
}

impl Serialize for Label {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Label::Int(value) => serializer.serialize_i64(*value),
            Label::Text(text) => serializer.serialize_str(text),
        }
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Label, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Text(String),
        }
        Ok(match Raw::deserialize(deserializer)? {
            Raw::Int(value) => Label::Int(value),
            Raw::Text(text) => Label::Text(text),
        })
    }
}

/// The classes of a dataset in their fixed order; a class's index is its position here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LabelMap {
    labels: Vec<Label>,
    #[serde(skip)]
    index: HashMap<Label, usize>,
}

impl LabelMap {
    /// The sorted set of distinct labels among `labels`.
    ///
    /// When every label is an integer they sort numerically; when any is a string, all are
    /// compared as strings (a file mixing `1` and `"1"` has one class, `1`).
    pub fn from_labels<'a>(labels: impl IntoIterator<Item = &'a Label>) -> LabelMap {
        let mut distinct: Vec<Label> = labels.into_iter().cloned().collect();
        if distinct.iter().any(|label| matches!(label, Label::Text(_))) {
            distinct = distinct
                .into_iter()
                .map(|label| Label::Text(label.as_text()))
                .collect();
        }
        distinct.sort();
        distinct.dedup();
        LabelMap::from_ordered(distinct)
    }

    /// A label map that keeps the given order (for example labels named on the command line).
    /// Repeated labels keep their first position.
    pub fn from_ordered(labels: Vec<Label>) -> LabelMap {
        let mut kept = Vec::with_capacity(labels.len());
        let mut index = HashMap::with_capacity(labels.len());
        for label in labels {
            if !index.contains_key(&label) {
                index.insert(label.clone(), kept.len());
                kept.push(label);
            }
        }
        LabelMap {
            labels: kept,
            index,
        }
    }

    /// The index of `label`, if it is one of the classes.
    ///
    /// A label that differs only in kind (`Int(1)` against `Text("1")`) is found too.
    pub fn index_of(&self, label: &Label) -> Option<usize> {
        if let Some(&i) = self.index.get(label) {
            return Some(i);
        }
        let other = match label {
            Label::Int(value) => Label::Text(value.to_string()),
            Label::Text(text) => Label::parse(text),
        };
        self.index.get(&other).copied()
    }

    /// The labels in class order.
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    /// The labels as text, in class order.
    pub fn names(&self) -> Vec<String> {
        self.labels.iter().map(Label::as_text).collect()
    }

    /// The number of classes.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no classes.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The label of class `index`.
    pub fn label(&self, index: usize) -> &Label {
        &self.labels[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_sort_numerically_and_strings_lexicographically() {
        let ints = [Label::Int(10), Label::Int(2), Label::Int(-1), Label::Int(2)];
        let map = LabelMap::from_labels(&ints);
        assert_eq!(
            map.labels(),
            &[Label::Int(-1), Label::Int(2), Label::Int(10)]
        );

        let texts = [
            Label::parse("pos"),
            Label::parse("neg"),
            Label::parse("Neg"),
        ];
        let map = LabelMap::from_labels(&texts);
        let names: Vec<String> = map.labels().iter().map(Label::as_text).collect();
        assert_eq!(names, ["Neg", "neg", "pos"]);
    }

    #[test]
    fn mixed_kinds_merge_as_text() {
        let mixed = [
            Label::Int(1),
            Label::Text("1".into()),
            Label::Text("b".into()),
        ];
        let map = LabelMap::from_labels(&mixed);
        assert_eq!(map.len(), 2);
        assert_eq!(map.index_of(&Label::Int(1)), Some(0));
        assert_eq!(map.index_of(&Label::Text("b".into())), Some(1));
    }

    #[test]
    fn only_canonical_integers_parse_as_integers() {
        assert_eq!(Label::parse("7"), Label::Int(7));
        assert_eq!(Label::parse("-7"), Label::Int(-7));
        assert_eq!(Label::parse("007"), Label::Text("007".into()));
        assert_eq!(Label::parse("7.0"), Label::Text("7.0".into()));
        assert_eq!(Label::parse(" 7"), Label::Text(" 7".into()));
    }
}
