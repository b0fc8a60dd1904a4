//! The trainable encoder against sentence-transformers: token ids, the [CLS] state and the
//! mean-pooled, L2-normalised embedding of all-MiniLM-L6-v2, from
//! `tests/fixtures/minilm_reference.json` (made with sentence-transformers 6.2.0,
//! transformers 5.24.0 and torch 2.15.0: `SentenceTransformer(model).encode(texts)` and
//! `model[0].auto_model(**tokens).last_hidden_state[:, 0, :8]`).

mod common;

use candle_core::Device;
use goodfit::model::{
    encode_texts, load_tokenizer, BatchInputs, Collator, Encoder, Example, Mode, ModelFolder,
    Params, Pooling, TrainLayers,
};
use goodfit::train::batching::make_batch;
use serde_json::Value;

#[test]
fn minilm_matches_sentence_transformers() {
    let Some(dir) = common::real_model() else {
        return;
    };
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixture("minilm_reference.json")).unwrap(),
    )
    .unwrap();
    let folder = ModelFolder::open(&dir).unwrap();
    assert_eq!(folder.architecture.name(), "bert");
    let tokenizer = load_tokenizer(&dir).unwrap();
    let mut params = Params::load(&folder.weights, "bert", &Device::Cpu, 0).unwrap();
    let encoder = Encoder::load(
        &mut params,
        folder.config.text().unwrap(),
        folder.architecture,
        TrainLayers::Top(0),
        None,
    )
    .unwrap();
    assert!(
        params.initialised().is_empty(),
        "every encoder weight is in the checkpoint"
    );

    let cases = reference["cases"].as_array().unwrap();
    let texts: Vec<String> = cases
        .iter()
        .map(|c| c["text"].as_str().unwrap().to_string())
        .collect();
    let encoded = encode_texts(&tokenizer, &texts, 128).unwrap();
    let mut worst: f64 = 0.0;
    for (case, ids) in cases.iter().zip(&encoded) {
        let expected_ids: Vec<u32> = case["input_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(ids, &expected_ids, "token ids of {:?}", case["text"]);
    }
    // sentence-transformers embeds with this model's max_seq_length, 256; the fixture's ids
    // and [CLS] states are at 128 tokens. All ten texts go in one padded batch: padding must
    // not change any text's result.
    let all: Vec<usize> = (0..texts.len()).collect();
    let collator = Collator::text(0, Device::Cpu);
    let run = |max_len: usize| {
        let encoded: Vec<Example> = encode_texts(&tokenizer, &texts, max_len)
            .unwrap()
            .into_iter()
            .map(Example::Tokens)
            .collect();
        let batch = make_batch(&encoded, &all, &collator).unwrap();
        let BatchInputs::Text { ids, mask } = batch.inputs else {
            panic!("text inputs")
        };
        let hidden = encoder.forward(&ids, &mask, &mut Mode::eval()).unwrap();
        (hidden, mask)
    };
    let (hidden, mask) = run(256);
    let pooled = Pooling::Mean.apply(&hidden, &mask, None).unwrap();
    let norms = pooled
        .sqr()
        .unwrap()
        .sum_keepdim(1)
        .unwrap()
        .sqrt()
        .unwrap();
    let normalised: Vec<Vec<f32>> = pooled.broadcast_div(&norms).unwrap().to_vec2().unwrap();
    let (hidden, _) = run(128);
    let cls: Vec<Vec<f32>> = hidden
        .narrow(1, 0, 1)
        .unwrap()
        .squeeze(1)
        .unwrap()
        .narrow(1, 0, 8)
        .unwrap()
        .to_vec2()
        .unwrap();
    for (i, case) in cases.iter().enumerate() {
        for (key, ours) in [
            ("mean_pooled_normalized", &normalised[i]),
            ("cls_hidden_first8", &cls[i]),
        ] {
            let theirs = case[key].as_array().unwrap();
            assert_eq!(ours.len(), theirs.len());
            for (a, b) in ours.iter().zip(theirs) {
                let diff = (f64::from(*a) - b.as_f64().unwrap()).abs();
                worst = worst.max(diff);
                assert!(diff < 1e-5, "{key} of {:?}: {a} vs {b}", case["text"]);
            }
        }
    }
    eprintln!("largest difference from sentence-transformers: {worst:.2e}");
}
