//! Pretrained models: reading a Hugging Face model folder and the trainable classifier
//! built on it.

pub mod backbone;
pub mod bert;
pub mod classifier;
pub mod cnn;
pub mod config;
pub mod device;
pub mod distilbert;
pub mod dropout;
pub mod efficientnet;
pub mod efficientnet_import;
pub mod family;
pub mod folder;
pub mod head;
pub mod image_transform;
pub mod inputs;
pub mod kernels;
pub mod linear;
pub mod params;
pub mod pooling;
pub mod preprocess;
pub mod pth;
pub mod registry;
pub mod save;
pub mod soup;
pub mod text_encoder;
pub mod tiny;
pub mod tokenizer;
pub mod weight_stats;

pub use backbone::{Backbone, Part, Place, Places};
pub use bert::{Encoder, TrainLayers};
pub use classifier::{Classifier, ClassifierSpec};
pub use config::EncoderConfig;
pub use device::DeviceSpec;
pub use dropout::Mode;
pub use family::{Architecture, Family};
pub use folder::{resolve_model, ModelFolder};
pub use inputs::{BatchInputs, Collated, Collator, Example};
pub use kernels::{attention_softmax, gelu, layer_norm};
pub use params::{Init, Params};
pub use pooling::Pooling;
pub use preprocess::Preprocessor;
pub use save::{save_classifier, ClassifierInfo, SavedClassifier, INFO_FILE};
pub use text_encoder::TextEncoder;
pub use tokenizer::{encode_texts, load_tokenizer};
