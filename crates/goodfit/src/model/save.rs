//! Saving a fine-tuned classifier as a Hugging Face folder, and opening it again.
//!
//! With `pooler` pooling and a linear head the folder is a `BertForSequenceClassification`
//! checkpoint (`bert.*`, `classifier.*`, `id2label`), so Python's
//! `AutoModelForSequenceClassification.from_pretrained` loads it and gives the same logits.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{Device, Tensor};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::data::{Label, LabelMap};
use crate::decision::DecisionRule;
use crate::error::{Error, Position, Result};
use crate::io::replace_dir_with;

use super::bert::TrainLayers;
use super::classifier::{Classifier, ClassifierSpec};
use super::folder::ModelFolder;
use super::params::Params;
use super::pooling::Pooling;
use super::preprocess::Preprocessor;

/// The name of goodfit's own description of a saved classifier.
pub const INFO_FILE: &str = "goodfit.json";

/// Tokenizer files copied along when the source folder has them.
const TOKENIZER_FILES: [&str; 3] = [
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
];

/// What goodfit needs to rebuild a saved classifier (`goodfit.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierInfo {
    /// The class labels in index order.
    pub labels: Vec<Label>,
    /// The pooling.
    pub pooling: Pooling,
    /// The longest input in tokens.
    pub max_len: usize,
    /// The head's hidden width, if any.
    pub head_hidden: Option<usize>,
    /// The text column it was trained on.
    pub text_col: String,
    /// The label column it was trained on.
    pub label_col: String,
    /// Training rows per class (the prior that post-hoc logit adjustment divides out).
    #[serde(default)]
    pub class_counts: Vec<usize>,
    /// The decision rule `predict` applies; none means argmax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionRule>,
}

impl ClassifierInfo {
    /// The label map.
    pub fn label_map(&self) -> LabelMap {
        LabelMap::from_ordered(self.labels.clone())
    }
}

/// Writes the classifier folder `dir` atomically (built in `dir.tmp`, then renamed).
///
/// `weights` are the classifier's weights by canonical name (see [`Params::tensors`]).
pub fn save_classifier(
    dir: &Path,
    source: &ModelFolder,
    preprocessor: &Preprocessor,
    weights: &BTreeMap<String, Tensor>,
    info: &ClassifierInfo,
    dropout: Option<f64>,
) -> Result<()> {
    let prefix = source.architecture.weight_prefix();
    let config_path = source.dir.join("config.json");
    let text = std::fs::read_to_string(&config_path).map_err(|e| Error::io(&config_path, e))?;
    let mut config: Value = serde_json::from_str(&text)
        .map_err(|e| Error::input(Position::file(&config_path), format!("invalid JSON: {e}")))?;
    let architecture = source.architecture.classifier_name();
    let id2label: serde_json::Map<String, Value> = info
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| (i.to_string(), json!(l.as_text())))
        .collect();
    let label2id: serde_json::Map<String, Value> = info
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_text(), json!(i)))
        .collect();
    if let Value::Object(fields) = &mut config {
        fields.insert("architectures".into(), json!([architecture]));
        fields.insert("id2label".into(), Value::Object(id2label));
        fields.insert("label2id".into(), Value::Object(label2id));
        fields.insert("problem_type".into(), json!("single_label_classification"));
        // An image model's config counts its classes (the pretrained one had ImageNet's).
        if fields.contains_key("num_classes") {
            fields.insert("num_classes".into(), json!(info.labels.len()));
        }
        if let Some(p) = dropout {
            fields.insert("classifier_dropout".into(), json!(p));
        }
    }
    let named: Vec<(String, &Tensor)> = weights
        .iter()
        .map(|(name, tensor)| {
            let native = source
                .architecture
                .renames()
                .map_or_else(|| name.clone(), |r| (r.from_canonical)(name));
            // The head's weights sit outside the encoder's prefix, as in transformers.
            let full = if native.starts_with("classifier")
                || native.starts_with("pre_classifier")
                || prefix.is_empty()
            {
                native
            } else {
                format!("{prefix}.{native}")
            };
            (full, tensor)
        })
        .collect();
    replace_dir_with(dir, |tmp| {
        let write = |name: &str, bytes: Vec<u8>| {
            let path = tmp.join(name);
            std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))
        };
        write(
            "config.json",
            serde_json::to_vec_pretty(&config).map_err(Error::serialization)?,
        )?;
        write(
            INFO_FILE,
            serde_json::to_vec_pretty(info).map_err(Error::serialization)?,
        )?;
        let weights_path = tmp.join("model.safetensors");
        let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
        safetensors::serialize_to_file(named, Some(metadata), &weights_path)
            .map_err(|e| Error::Invalid(format!("cannot write {}: {e}", weights_path.display())))?;
        preprocessor.save(tmp)?;
        for file in TOKENIZER_FILES {
            let from = source.dir.join(file);
            if from.is_file() {
                std::fs::copy(&from, tmp.join(file)).map_err(|e| Error::io(&from, e))?;
            }
        }
        Ok(())
    })
}

/// A saved classifier, opened for prediction.
pub struct SavedClassifier {
    /// The folder.
    pub folder: ModelFolder,
    /// `goodfit.json`.
    pub info: ClassifierInfo,
    /// The classifier, all weights frozen.
    pub classifier: Classifier,
}

impl SavedClassifier {
    /// Opens a folder written by [`save_classifier`].
    pub fn open(dir: &Path, device: &Device) -> Result<SavedClassifier> {
        let (folder, info) = Self::describe(dir)?;
        let params = Params::load_checkpoint(&folder.weights, folder.architecture, device, 0)?;
        Self::build(folder, info, params)
    }

    /// The model folder and `goodfit.json` of a folder written by [`save_classifier`],
    /// checked, without reading its weights.
    pub fn describe(dir: &Path) -> Result<(ModelFolder, ClassifierInfo)> {
        let info_path = dir.join(INFO_FILE);
        let folder = ModelFolder::open(dir)?;
        let text = std::fs::read_to_string(&info_path).map_err(|e| Error::io(&info_path, e))?;
        let info: ClassifierInfo = serde_json::from_str(&text).map_err(|e| {
            Error::input(
                Position::line(&info_path, e.line() as u64),
                format!("not a goodfit classifier description: {e}"),
            )
        })?;
        let text = matches!(folder.config, super::model_config::ModelConfig::Text(_));
        if text && (info.max_len > folder.positions() || info.max_len < 2) {
            return Err(Error::input(
                Position::file(&info_path).with_field("max_len"),
                format!(
                    "max_len {} is outside what the model takes (2 to {} positions)",
                    info.max_len,
                    folder.positions()
                ),
            ));
        }
        Ok((folder, info))
    }

    /// The classifier described by `info` in the folder `dir` (its config and tokenizer)
    /// with `tensors` (named as in its weights file) for weights: a soup of classifiers
    /// saved from that folder's kind.
    pub fn from_tensors(
        dir: &Path,
        info: ClassifierInfo,
        tensors: HashMap<String, Tensor>,
        device: &Device,
    ) -> Result<SavedClassifier> {
        let folder = ModelFolder::open(dir)?;
        let params = Params::from_checkpoint(tensors, folder.architecture, device, 0);
        Self::build(folder, info, params)
    }

    fn build(
        folder: ModelFolder,
        info: ClassifierInfo,
        mut params: Params,
    ) -> Result<SavedClassifier> {
        let spec = ClassifierSpec {
            pooling: info.pooling,
            head_hidden: info.head_hidden,
            dropout: None,
            train_layers: TrainLayers::Top(0),
            classes: info.labels.len(),
        };
        let classifier =
            Classifier::build(&mut params, &folder.config, folder.architecture, &spec)?;
        if let Some(missing) = params.initialised().first() {
            return Err(Error::input(
                Position::file(&folder.weights),
                format!("the saved classifier lacks the weight '{missing}'"),
            ));
        }
        Ok(SavedClassifier {
            folder,
            info,
            classifier,
        })
    }
}
