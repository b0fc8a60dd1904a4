//! DistilBERT against transformers: a randomly initialised
//! `DistilBertForSequenceClassification` saved by transformers
//! (`tests/fixtures/distilbert_tiny/`, made by `scripts/make_distilbert_fixture.py` with
//! transformers 5.25.0 and torch 2.15.0: `model(**tokenizer(texts, padding=True))`), read
//! by goodfit's BERT encoder under renamed weights, gives the same token ids, first-token
//! states and logits to 1e-4; saved again by goodfit, it is the same checkpoint (every
//! weight under transformers' name) and predicts the same logits.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use candle_core::Device;
use goodfit::data::Label;
use goodfit::model::{
    encode_texts, load_tokenizer, save_classifier, Classifier, ClassifierInfo, ClassifierSpec,
    Collator, Example, Mode, ModelFolder, Params, Pooling, SavedClassifier, TrainLayers,
};
use goodfit::train::batching::make_batch;
use goodfit::train::evaluate::predict_texts;
use serde_json::Value;

fn matrix(value: &Value) -> Vec<Vec<f64>> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect()
}

fn worst(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).map(|(p, q)| (p - q).abs())
        })
        .fold(0.0, f64::max)
}

fn to_f64(rows: Vec<Vec<f32>>) -> Vec<Vec<f64>> {
    rows.into_iter()
        .map(|r| r.into_iter().map(f64::from).collect())
        .collect()
}

#[test]
fn distilbert_matches_transformers_and_saves_as_it_loads() {
    let dir = common::fixture("distilbert_tiny");
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixture("distilbert_reference.json")).unwrap(),
    )
    .unwrap();
    let folder = ModelFolder::open(&dir).unwrap();
    assert_eq!(folder.architecture.name(), "distilbert");
    assert_eq!(folder.config.text().unwrap().hidden_size, 32);
    assert_eq!(folder.config.text().unwrap().num_hidden_layers, 2);
    let tokenizer = load_tokenizer(&dir).unwrap();
    let texts: Vec<String> = reference["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    let encoded = encode_texts(&tokenizer, &texts, 40).unwrap();
    let masks = matrix(&reference["attention_mask"]);
    for ((ids, expected), mask) in encoded
        .iter()
        .zip(matrix(&reference["input_ids"]))
        .zip(&masks)
    {
        let real = mask.iter().filter(|&&m| m == 1.0).count();
        let expected: Vec<u32> = expected[..real].iter().map(|&v| v as u32).collect();
        assert_eq!(ids, &expected);
    }

    // DistilBertForSequenceClassification: the first token's state, pre_classifier + ReLU,
    // classifier.
    let spec = ClassifierSpec {
        pooling: Pooling::Cls,
        head_hidden: Some(32),
        dropout: None,
        train_layers: TrainLayers::Top(0),
        classes: 3,
    };
    let mut params =
        Params::load_checkpoint(&folder.weights, folder.architecture, &Device::Cpu, 0).unwrap();
    let classifier =
        Classifier::build(&mut params, &folder.config, folder.architecture, &spec).unwrap();
    assert!(
        params.initialised().is_empty(),
        "every weight is in the checkpoint: {:?}",
        params.initialised()
    );
    let rows: Vec<usize> = (0..texts.len()).collect();
    let examples: Vec<Example> = encoded.iter().cloned().map(Example::Tokens).collect();
    let batch = make_batch(&examples, &rows, &Collator::text(0, Device::Cpu)).unwrap();
    let mut mode = Mode::eval();
    let pooled = classifier
        .backbone()
        .features(&batch.inputs, &mut mode)
        .unwrap();
    let cls = worst(
        &to_f64(pooled.to_vec2().unwrap()),
        &matrix(&reference["cls_state"]),
    );
    let logits = classifier.forward(&batch.inputs, &mut mode).unwrap();
    let expected = matrix(&reference["logits"]);
    let error = worst(&to_f64(logits.to_vec2().unwrap()), &expected);
    assert!(
        cls < 1e-4 && error < 1e-4,
        "first-token states {cls:e}, logits {error:e}"
    );

    // Saved by goodfit: transformers' names, its architecture, the same logits again.
    let saved = tempfile::tempdir().unwrap();
    let out = saved.path().join("model");
    let info = ClassifierInfo {
        labels: (0..3).map(Label::Int).collect(),
        pooling: Pooling::Cls,
        max_len: 40,
        head_hidden: Some(32),
        text_col: "text".into(),
        label_col: "label".into(),
        class_counts: vec![1; 3],
        decision: None,
    };
    let preprocessor = goodfit::model::Preprocessor::Text(Box::new(tokenizer.clone()));
    save_classifier(&out, &folder, &preprocessor, &params.tensors(), &info, None).unwrap();
    let names = |path: &std::path::Path| -> BTreeSet<String> {
        candle_core::safetensors::load(path, &Device::Cpu)
            .unwrap()
            .into_keys()
            .collect()
    };
    assert_eq!(
        names(&out.join("model.safetensors")),
        names(&folder.weights)
    );
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        config["architectures"][0],
        "DistilBertForSequenceClassification"
    );
    assert_eq!(config["dim"], 32);
    let reopened = SavedClassifier::open(&out, &Device::Cpu).unwrap();
    let again = predict_texts(&reopened, &texts, Path::new(""), 8, &mut |_| {}).unwrap();
    let error = worst(&again, &expected);
    assert!(error < 1e-4, "saved and reopened: logits {error:e}");
}
