//! Weight averaging of fine-tuned classifiers: a "model soup" (Wortsman et al. 2022,
//! "Model soups: averaging weights of multiple fine-tuned models improves accuracy without
//! increasing inference time").
//!
//! Fine-tunes that start from the same pretrained weights and train briefly at a small
//! learning rate stay in one basin of the loss, so the average of their weights is itself a
//! good model — one model to run, where an ensemble runs every member. The average is
//! uniform over the tensors as saved (`model.safetensors`), name by name; every member must
//! be the same classifier (the same tensors and shapes, classes, pooling and head) for it to
//! mean anything, and is refused with its folder named otherwise.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};

use crate::error::{Error, Position, Result};
use crate::io::replace_dir_with;

use super::save::{ClassifierInfo, SavedClassifier, INFO_FILE};

/// One saved classifier's weights, read once, to be averaged with others.
pub struct Ingredient {
    /// The classifier folder.
    pub dir: PathBuf,
    /// Its weights file.
    weights: PathBuf,
    /// Its description.
    pub info: ClassifierInfo,
    /// Its tensors by their names in the file, as f32.
    tensors: BTreeMap<String, Tensor>,
}

impl Ingredient {
    /// Reads the classifier folder `dir` (written by [`super::save_classifier`]).
    pub fn read(dir: &Path) -> Result<Ingredient> {
        // The description only: the weights are read once, below.
        let (folder, info) = SavedClassifier::describe(dir)?;
        let path = folder.weights;
        let tensors = candle_core::safetensors::load(&path, &Device::Cpu)
            .map_err(|e| {
                Error::input(
                    Position::file(&path),
                    format!("cannot read the weights: {e}"),
                )
            })?
            .into_iter()
            .map(|(name, t)| Ok((name, t.to_dtype(DType::F32)?)))
            .collect::<Result<BTreeMap<_, _>>>()?;
        Ok(Ingredient {
            dir: dir.to_path_buf(),
            weights: path,
            info,
            tensors,
        })
    }

    /// Why `self` cannot be averaged with `first`, if it cannot.
    fn mismatch(&self, first: &Ingredient) -> Option<String> {
        let (a, b) = (&first.info, &self.info);
        if a.labels != b.labels {
            return Some("other classes".into());
        }
        if a.pooling != b.pooling || a.head_hidden != b.head_hidden {
            return Some("another pooling or head".into());
        }
        if a.text_col != b.text_col {
            return Some("another text column".into());
        }
        if first.tensors.len() != self.tensors.len() {
            return Some(format!(
                "{} weights where the first has {}",
                self.tensors.len(),
                first.tensors.len()
            ));
        }
        for (name, tensor) in &first.tensors {
            match self.tensors.get(name) {
                None => return Some(format!("no weight '{name}'")),
                Some(t) if t.dims() != tensor.dims() => {
                    return Some(format!(
                        "weight '{name}' of shape {:?}, not {:?}",
                        t.dims(),
                        tensor.dims()
                    ))
                }
                Some(_) => {}
            }
        }
        None
    }
}

/// The uniform average of `ingredients`' weights (at least one; the first's description and
/// files go with it).
pub struct Soup<'a> {
    members: Vec<&'a Ingredient>,
    tensors: BTreeMap<String, Tensor>,
}

impl<'a> Soup<'a> {
    /// Refuses `members` unless they are one kind of classifier (the first one's), without
    /// averaging anything.
    pub fn check(members: &[&Ingredient]) -> Result<()> {
        let first = *members
            .first()
            .ok_or_else(|| Error::Invalid("a soup needs at least one model".into()))?;
        for m in &members[1..] {
            if let Some(why) = m.mismatch(first) {
                return Err(Error::input(
                    Position::file(&m.dir),
                    format!("cannot be averaged with {}: {why}", first.dir.display()),
                ));
            }
        }
        Ok(())
    }

    /// Averages `members`, refusing any that is not the first one's kind of classifier.
    pub fn average(members: &[&'a Ingredient]) -> Result<Soup<'a>> {
        Self::check(members)?;
        let first = members[0];
        let scale = 1.0 / members.len() as f64;
        let tensors = first
            .tensors
            .iter()
            .map(|(name, t)| {
                let mut sum = t.clone();
                for m in &members[1..] {
                    sum = (sum + &m.tensors[name])?;
                }
                Ok((name.clone(), (sum * scale)?))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        Ok(Soup {
            members: members.to_vec(),
            tensors,
        })
    }

    /// The averaged classifier, ready to predict (described as the first member is, with
    /// argmax as its decision rule: a member's tuned rule was tuned on its own outputs).
    pub fn classifier(&self) -> Result<SavedClassifier> {
        let first = self.members[0];
        let info = ClassifierInfo {
            decision: None,
            ..first.info.clone()
        };
        let tensors: HashMap<String, Tensor> = self.tensors.clone().into_iter().collect();
        SavedClassifier::from_tensors(&first.dir, info, tensors, &Device::Cpu)
    }

    /// Writes the averaged classifier as a folder at `dir` (the first member's files, its
    /// weights replaced by the average and its decision rule by argmax), atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let first = self.members[0];
        let info = ClassifierInfo {
            decision: None,
            ..first.info.clone()
        };
        let source = &first.dir;
        let entries = std::fs::read_dir(source).map_err(|e| Error::io(source, e))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(source, e))?;
            let name = entry.file_name();
            let weights = first.weights.file_name().unwrap_or_default();
            if name != weights && name != INFO_FILE && entry.path().is_file() {
                files.push(entry.path());
            }
        }
        replace_dir_with(dir, |tmp| {
            for from in &files {
                let to = tmp.join(from.file_name().unwrap_or_default());
                std::fs::copy(from, &to).map_err(|e| Error::io(from, e))?;
            }
            let path = tmp.join(INFO_FILE);
            let bytes = serde_json::to_vec_pretty(&info).map_err(Error::serialization)?;
            std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
            let path = tmp.join(first.weights.file_name().unwrap_or_default());
            let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
            let named: Vec<(&String, &Tensor)> = self.tensors.iter().collect();
            safetensors::serialize_to_file(named, Some(metadata), &path)
                .map_err(|e| Error::Invalid(format!("cannot write {}: {e}", path.display())))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Label;
    use crate::model::Pooling;

    fn ingredient(dir: &str, values: &[f32], labels: usize) -> Ingredient {
        let info = ClassifierInfo {
            labels: (0..labels as i64).map(Label::Int).collect(),
            pooling: Pooling::Mean,
            max_len: 8,
            head_hidden: None,
            text_col: "text".into(),
            label_col: "label".into(),
            class_counts: vec![1; labels],
            decision: None,
        };
        let tensor = Tensor::new(values, &Device::Cpu).unwrap();
        Ingredient {
            dir: dir.into(),
            weights: Path::new(dir).join("model.safetensors"),
            info,
            tensors: BTreeMap::from([("classifier.weight".to_string(), tensor)]),
        }
    }

    #[test]
    fn the_soup_is_the_mean_of_its_members_weights() {
        let a = ingredient("a", &[1.0, 2.0, 3.0], 2);
        let b = ingredient("b", &[3.0, 2.0, -3.0], 2);
        let c = ingredient("c", &[2.0, 5.0, 0.0], 2);
        let soup = Soup::average(&[&a, &b, &c]).unwrap();
        let mean: Vec<f32> = soup.tensors["classifier.weight"].to_vec1().unwrap();
        assert_eq!(mean, vec![2.0, 3.0, 0.0]);
        let alone = Soup::average(&[&a]).unwrap();
        let same: Vec<f32> = alone.tensors["classifier.weight"].to_vec1().unwrap();
        assert_eq!(same, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn different_classifiers_are_refused_by_folder() {
        let a = ingredient("a", &[1.0, 2.0], 2);
        let classes = ingredient("other-classes", &[1.0, 2.0], 3);
        let shape = ingredient("other-shape", &[1.0, 2.0, 3.0], 2);
        for (other, why) in [(&classes, "other classes"), (&shape, "of shape [3]")] {
            let error = Soup::average(&[&a, other]).err().unwrap().to_string();
            assert!(error.contains(&other.dir.display().to_string()), "{error}");
            assert!(error.contains(why), "{error}");
        }
        assert!(Soup::average(&[]).is_err());
    }
}
