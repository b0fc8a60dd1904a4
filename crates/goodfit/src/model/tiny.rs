//! A tiny random-weight BERT, written as a real Hugging Face folder: for tests and examples
//! that must run in seconds and without downloading anything.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use crate::error::{Error, Result};

/// The tiny model's vocabulary: BERT's special tokens, then lower-case words.
pub const TINY_VOCAB: [&str; 40] = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "is", "was", "very", "not", "and",
    "this", "it", "tea", "coffee", "cake", "soup", "bread", "good", "great", "tasty", "fresh",
    "lovely", "bad", "awful", "stale", "bland", "terrible", "love", "hate", "buy", "again",
    "never", "!", ".", ",", "##s", "##ly", "5",
];

/// Writes `config.json`, `model.safetensors` and `vocab.txt` of a BERT with hidden size
/// 32, 2 layers, 4 heads and the [`TINY_VOCAB`], weights drawn uniformly with standard deviation 0.02
/// from `seed`
/// (LayerNorms 1 and 0, as a fresh BERT starts).
pub fn write_tiny_bert(dir: &Path, seed: u64) -> Result<()> {
    let (hidden, layers, intermediate, positions) = (32usize, 2usize, 64usize, 64usize);
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let config = json!({
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": TINY_VOCAB.len(),
        "hidden_size": hidden, "num_hidden_layers": layers, "num_attention_heads": 4,
        "intermediate_size": intermediate, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1, "max_position_embeddings": positions, "type_vocab_size": 2,
        "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0
    });
    let write = |name: &str, bytes: Vec<u8>| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))
    };
    write(
        "config.json",
        serde_json::to_vec_pretty(&config).map_err(Error::serialization)?,
    )?;
    write("vocab.txt", (TINY_VOCAB.join("\n") + "\n").into_bytes())?;

    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut shapes: Vec<(String, Vec<usize>)> = vec![
        (
            "embeddings.word_embeddings.weight".into(),
            vec![TINY_VOCAB.len(), hidden],
        ),
        (
            "embeddings.position_embeddings.weight".into(),
            vec![positions, hidden],
        ),
        (
            "embeddings.token_type_embeddings.weight".into(),
            vec![2, hidden],
        ),
        ("embeddings.LayerNorm.weight".into(), vec![hidden]),
        ("embeddings.LayerNorm.bias".into(), vec![hidden]),
        ("pooler.dense.weight".into(), vec![hidden, hidden]),
        ("pooler.dense.bias".into(), vec![hidden]),
    ];
    for l in 0..layers {
        let p = format!("encoder.layer.{l}");
        for (name, shape) in [
            ("attention.self.query", vec![hidden, hidden]),
            ("attention.self.key", vec![hidden, hidden]),
            ("attention.self.value", vec![hidden, hidden]),
            ("attention.output.dense", vec![hidden, hidden]),
            ("intermediate.dense", vec![intermediate, hidden]),
            ("output.dense", vec![hidden, intermediate]),
        ] {
            shapes.push((format!("{p}.{name}.bias"), vec![shape[0]]));
            shapes.push((format!("{p}.{name}.weight"), shape));
        }
        for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
            shapes.push((format!("{p}.{norm}.weight"), vec![hidden]));
            shapes.push((format!("{p}.{norm}.bias"), vec![hidden]));
        }
    }
    let mut tensors = HashMap::new();
    for (name, shape) in shapes {
        let n: usize = shape.iter().product();
        let values: Vec<f32> = if name.contains("LayerNorm.weight") {
            vec![1.0; n]
        } else if name.ends_with(".bias") {
            vec![0.0; n]
        } else {
            (0..n)
                .map(|_| 0.02 * ((rng.random::<f32>() - 0.5) * 3.464))
                .collect()
        };
        tensors.insert(name, Tensor::from_vec(values, shape, &Device::Cpu)?);
    }
    candle_core::safetensors::save(&tensors, dir.join("model.safetensors"))?;
    Ok(())
}

/// Writes an EfficientNet-Lite0 model folder for `image_size`-pixel inputs whose weights
/// file is empty: every weight is then initialised from the training seed (He normal for
/// convolutions, BatchNorm at 1 and 0 with running statistics 0 and 1), as a fresh timm
/// model starts. For tests that must run in seconds without the real weights.
pub fn write_random_efficientnet(dir: &Path, image_size: usize) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let config = json!({
        "model_type": "efficientnet_lite0", "architectures": ["EfficientNetLite0"],
        "image_size": image_size, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
        "num_features": super::efficientnet::FEATURES, "num_classes": 1000
    });
    let path = dir.join("config.json");
    std::fs::write(&path, config.to_string()).map_err(|e| Error::io(&path, e))?;
    let path = dir.join("model.safetensors");
    let empty: HashMap<String, Tensor> = HashMap::new();
    safetensors::serialize_to_file(&empty, None, &path)
        .map_err(|e| Error::Invalid(format!("cannot write {}: {e}", path.display())))
}
