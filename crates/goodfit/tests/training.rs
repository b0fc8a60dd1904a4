//! Fine-tuning end to end on a tiny random BERT written by the test: the loop learns, every
//! trainable weight gets a gradient, runs are reproducible, and resume equals an
//! uninterrupted run.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use candle_core::Device;
use goodfit::auto::{read_trials, run_auto, AutoConfig};
use goodfit::model::tiny::write_tiny_bert;
use goodfit::model::{
    Classifier, ClassifierSpec, EncoderConfig, Mode, ModelConfig, Params, Pooling, SavedClassifier,
    TrainLayers,
};
use goodfit::pipeline::train;
use goodfit::train::loss::cross_entropy;
use goodfit::train::{Observer, Silent, TrainConfig};
use goodfit::Error;
use serde_json::Value;

mod common;
use common::{config, setup};

/// History records without the wall-clock field.
fn history(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("history.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            let mut record: Value = serde_json::from_str(line).unwrap();
            record.as_object_mut().unwrap().remove("seconds");
            record
        })
        .collect()
}

#[test]
fn the_loop_learns_sixteen_examples_by_heart() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let out = dir.path().join("run");
    let mut cfg = config(&model, &train_path, &val_path, &out);
    cfg.epochs = 40;
    cfg.dropout = Some(0.0);
    cfg.schedule = "constant".parse().unwrap();
    let result = train(&cfg, false, &Silent).unwrap();
    let records = history(&out);
    let last = records.last().unwrap();
    let loss = last["train_loss"].as_f64().unwrap();
    assert!(
        loss < 0.05,
        "training loss after {} epochs: {loss}",
        records.len()
    );
    assert_eq!(last["train_accuracy"], 1.0);
    assert!(
        records[0]["train_loss"].as_f64().unwrap() > 0.5,
        "it started from chance"
    );
    assert_eq!(result.epochs_run, 40);
    for file in [
        "config.toml",
        "history.jsonl",
        "metrics.json",
        "model/config.json",
        "model/model.safetensors",
        "model/goodfit.json",
        "model/tokenizer.json",
    ] {
        assert!(out.join(file).is_file(), "{file} is written");
    }
    // The saved model predicts as the trained one did.
    let saved = SavedClassifier::open(&out.join("model"), &Device::Cpu).unwrap();
    assert_eq!(saved.info.labels.len(), 2);
}

#[test]
fn every_trainable_weight_gets_a_gradient_and_frozen_ones_none() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny");
    write_tiny_bert(&model, 2).unwrap();
    let config = ModelConfig::Text(EncoderConfig::read(&model.join("config.json")).unwrap());
    for (train_layers, pooling, expected_vars) in [
        (TrainLayers::All, Pooling::Pooler, 2 * 16 + 5 + 2 + 2),
        (TrainLayers::Top(1), Pooling::Mean, 16 + 2),
        (TrainLayers::Top(0), Pooling::Cls, 2),
    ] {
        let mut params =
            Params::load(&model.join("model.safetensors"), "bert", &Device::Cpu, 0).unwrap();
        let spec = ClassifierSpec {
            pooling,
            head_hidden: None,
            dropout: None,
            train_layers,
            classes: 3,
        };
        let classifier = Classifier::build(
            &mut params,
            &config,
            goodfit::model::registry::architecture("bert").unwrap(),
            &spec,
        )
        .unwrap();
        assert_eq!(params.vars().len(), expected_vars, "{train_layers:?}");
        let ids =
            candle_core::Tensor::new(&[[2u32, 14, 19, 3, 0], [2, 25, 15, 36, 3]], &Device::Cpu)
                .unwrap();
        let mask = candle_core::Tensor::new(
            &[[1f32, 1., 1., 1., 0.], [1., 1., 1., 1., 1.]],
            &Device::Cpu,
        )
        .unwrap();
        let mut mode =
            Mode::train(<rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0));
        let inputs = goodfit::model::BatchInputs::Text { ids, mask };
        let logits = classifier.forward(&inputs, &mut mode).unwrap();
        let grads = cross_entropy(&logits, &[0, 2], 0.0)
            .unwrap()
            .backward()
            .unwrap();
        for (name, var) in params.vars() {
            let grad = grads
                .get(var)
                .unwrap_or_else(|| panic!("{name} has no gradient ({train_layers:?})"));
            let norm = grad
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap()
                .to_scalar::<f32>()
                .unwrap();
            assert!(norm > 0.0, "{name} has a zero gradient ({train_layers:?})");
        }
        for (name, tensor) in params.tensors() {
            if !params.vars().contains_key(&name) {
                assert!(
                    grads.get(&tensor).is_none(),
                    "frozen {name} got a gradient ({train_layers:?})"
                );
            }
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_history() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    train(&config(&model, &train_path, &val_path, &a), false, &Silent).unwrap();
    train(&config(&model, &train_path, &val_path, &b), false, &Silent).unwrap();
    assert_eq!(history(&a), history(&b));
    let mut other = config(&model, &train_path, &val_path, &dir.path().join("c"));
    other.seed = 7;
    train(&other, false, &Silent).unwrap();
    assert_ne!(history(&a), history(&dir.path().join("c")));
}

/// Stops the run after `epochs` epochs, as Ctrl-C would.
struct StopAfter {
    epochs: usize,
    seen: Cell<usize>,
}

impl Observer for StopAfter {
    fn epoch_end(&self, _: &goodfit::run_folder::records::EpochRecord) {
        self.seen.set(self.seen.get() + 1);
    }
    fn keep_going(&self) -> bool {
        self.seen.get() < self.epochs
    }
}

/// Asks to stop mid-epoch once `epochs` epochs finished and one more batch ran, as the
/// Python package does on Ctrl-C.
struct StopMidEpoch {
    epochs: usize,
    seen: Cell<usize>,
    batches: Cell<usize>,
}

impl Observer for StopMidEpoch {
    fn epoch_end(&self, _: &goodfit::run_folder::records::EpochRecord) {
        self.seen.set(self.seen.get() + 1);
    }
    fn batch_end(&self, _: f64) {
        self.batches.set(self.batches.get() + 1);
    }
    fn stop_now(&self) -> bool {
        self.seen.get() >= self.epochs
    }
}

/// Trains one run whole and the same run stopped by `observer` (which must stop it after
/// `epochs_done` finished epochs, leaving no model and only their history), then resumes
/// the stopped one and checks it ends where the whole one did; returns the two folders.
fn stop_then_resume(
    observer: &dyn Observer,
    epochs_done: usize,
) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let whole = dir.path().join("whole");
    let parts = dir.path().join("parts");
    train(
        &config(&model, &train_path, &val_path, &whole),
        false,
        &Silent,
    )
    .unwrap();
    let cfg = config(&model, &train_path, &val_path, &parts);
    match train(&cfg, false, observer) {
        Err(Error::Interrupted { epochs_done: e, .. }) => assert_eq!(e, epochs_done),
        other => panic!(
            "expected an interruption, got {:?}",
            other.map(|r| r.epochs_run)
        ),
    }
    assert!(
        !parts.join("model").exists(),
        "an interrupted run leaves no model"
    );
    assert_eq!(
        history(&parts).len(),
        epochs_done,
        "only finished epochs are recorded"
    );
    train(&cfg, true, &Silent).unwrap();
    assert_eq!(history(&parts), history(&whole));
    (dir, whole, parts)
}

#[test]
fn a_stop_mid_epoch_drops_that_epoch_and_resumes_to_the_same_end() {
    let observer = StopMidEpoch {
        epochs: 1,
        seen: Cell::new(0),
        batches: Cell::new(0),
    };
    let (_dir, whole, _) = stop_then_resume(&observer, 1);
    let first_epoch = history(&whole)[0]["step"].as_u64().unwrap() as usize;
    assert_eq!(
        observer.batches.get(),
        first_epoch + 1,
        "it stopped after the first batch of epoch 2"
    );
}

#[test]
fn resume_ends_where_an_uninterrupted_run_ends() {
    let observer = StopAfter {
        epochs: 2,
        seen: Cell::new(0),
    };
    let (_dir, whole, parts) = stop_then_resume(&observer, 2);
    let weights = |dir: &Path| std::fs::read(dir.join("model/model.safetensors")).unwrap();
    assert_eq!(
        weights(&parts),
        weights(&whole),
        "the saved weights are identical"
    );
}

#[test]
fn bad_training_input_is_refused_before_any_model_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let out = dir.path().join("run");
    let one_class = dir.path().join("one.csv");
    std::fs::write(&one_class, "text,label\ngood tea,pos\ngreat cake,pos\n").unwrap();
    let unseen = dir.path().join("unseen.csv");
    std::fs::write(&unseen, "text,label\ngood tea,pos\nbland,meh\n").unwrap();
    let cases: Vec<(TrainConfig, &str)> = vec![
        (
            TrainConfig {
                train: one_class,
                ..config(&model, &train_path, &val_path, &out)
            },
            "only one class ('pos')",
        ),
        (
            TrainConfig {
                val: Some(unseen),
                ..config(&model, &train_path, &val_path, &out)
            },
            "unseen.csv:3: label 'meh' is not among the known labels (neg, pos)",
        ),
        (
            TrainConfig {
                text_col: "review".into(),
                ..config(&model, &train_path, &val_path, &out)
            },
            "no column 'review'",
        ),
        (
            TrainConfig {
                train_layers: TrainLayers::Top(5),
                ..config(&model, &train_path, &val_path, &out)
            },
            "more than the model's 2 layers",
        ),
        (
            TrainConfig {
                model: dir.path().join("nope").to_string_lossy().into(),
                ..config(&model, &train_path, &val_path, &out)
            },
            "no such model folder",
        ),
    ];
    for (cfg, expected) in cases {
        let message = train(&cfg, false, &Silent)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains(expected),
            "expected {expected:?} in {message:?}"
        );
        assert!(!out.join("model").exists());
    }
    let empty = dir.path().join("empty_text.csv");
    std::fs::write(
        &empty,
        "text,label\ngood tea,pos\n,neg\nbad tea,neg\nnice,pos\n",
    )
    .unwrap();
    let strict = TrainConfig {
        train: empty,
        strict: true,
        ..config(&model, &train_path, &val_path, &out)
    };
    let message = train(&strict, false, &Silent).err().unwrap().to_string();
    assert!(
        message.contains("empty_text.csv:3, field 'text': the text is empty"),
        "{message}"
    );
}

#[test]
fn head_only_training_runs_on_cached_features_and_so_do_learning_curves() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let mut cfg = config(&model, &train_path, &val_path, &dir.path().join("head"));
    cfg.train_layers = TrainLayers::Top(0);
    cfg.pooling = Pooling::Mean;
    cfg.epochs = 60;
    cfg.head_lr = 3e-2;
    cfg.dropout = Some(0.0);
    train(&cfg, false, &Silent).unwrap();
    let records = history(&dir.path().join("head"));
    assert!(
        records.last().unwrap()["train_accuracy"].as_f64().unwrap() >= 0.9,
        "{:?}",
        records.last()
    );
    // With the pooler, only it and the head train: the encoder's drift is exactly zero.
    let pooler = TrainConfig {
        pooling: Pooling::Pooler,
        epochs: 2,
        out: dir.path().join("pooler"),
        ..cfg.clone()
    };
    train(&pooler, false, &Silent).unwrap();
    let weights: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("pooler/weights.json")).unwrap(),
    )
    .unwrap();
    for layer in weights["layers"].as_array().unwrap() {
        let trainable = layer["trainable"].as_bool().unwrap();
        let name = layer["name"].as_str().unwrap();
        assert_eq!(
            trainable,
            name == "pooler" || name == "classifier",
            "{name}"
        );
        if !trainable {
            assert_eq!(layer["drift"], 0.0, "{name}");
        }
    }

    let curve =
        goodfit::train::learning_curve::learning_curve(&cfg, &[1.0, 0.25, 0.5], &Silent).unwrap();
    let rows: Vec<usize> = curve.points.iter().map(|p| p.rows).collect();
    assert_eq!(rows, [4, 8, 16], "sorted fractions, stratified");
    assert_eq!(curve.metric, "f1_macro");
    assert!(curve
        .points
        .iter()
        .all(|p| p.val_score.is_some() && p.train_score.is_some()));
    assert!(!curve.conclusion.is_empty());
}

#[test]
fn cached_frozen_layers_train_as_the_full_forward_pass_does() {
    // The tiny model has two layers; with the top one training, the embeddings and layer 0
    // are computed once. The run must match one that recomputes them every batch (measured:
    // bit for bit; allowed: float summation order, as padded batches multiply more zeros).
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    /// Records what the trainer evaluates, to see the frozen layers computed once.
    #[derive(Default)]
    struct Evaluations(std::cell::RefCell<Vec<String>>);
    impl Observer for Evaluations {
        fn eval_start(&self, what: &str, _: usize) {
            self.0.borrow_mut().push(what.to_string());
        }
    }
    let run = |name: &str, cache_frozen: bool| {
        let mut cfg = config(&model, &train_path, &val_path, &dir.path().join(name));
        cfg.train_layers = TrainLayers::Top(1);
        cfg.cache_frozen = cache_frozen;
        cfg.dropout = Some(0.1);
        let seen = Evaluations::default();
        train(&cfg, false, &seen).unwrap();
        let once = seen
            .0
            .borrow()
            .iter()
            .any(|w| w.contains("frozen layers, once"));
        assert_eq!(once, cache_frozen);
        history(&dir.path().join(name))
    };
    let (cached, uncached) = (run("cached", true), run("uncached", false));
    assert_eq!(cached.len(), uncached.len());
    for (a, b) in cached.iter().zip(&uncached) {
        for key in ["train_loss", "val_loss", "val_accuracy", "train_accuracy"] {
            let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
            assert!((x - y).abs() < 1e-4, "{key}: cached {x}, recomputed {y}");
        }
    }
    // It learned something, so the comparison is not between two idle runs.
    let first = cached[0]["train_loss"].as_f64().unwrap();
    let last = cached.last().unwrap()["train_loss"].as_f64().unwrap();
    assert!(last < first, "{first} → {last}");
}

/// Records what a search evaluates and how many epochs start; asks to stop once a
/// fine-tune's frozen layers have been computed, as Ctrl-C during the first fine-tune would.
#[derive(Default)]
struct SearchWatcher {
    evaluations: std::cell::RefCell<Vec<String>>,
    messages: std::cell::RefCell<Vec<String>>,
    stop_at_fine_tune: bool,
}

impl Observer for SearchWatcher {
    fn eval_start(&self, what: &str, _: usize) {
        self.evaluations.borrow_mut().push(what.to_string());
    }
    fn message(&self, text: &str) {
        self.messages.borrow_mut().push(text.to_string());
    }
    fn keep_going(&self) -> bool {
        !(self.stop_at_fine_tune
            && self
                .evaluations
                .borrow()
                .iter()
                .any(|w| w.contains("frozen layers, once")))
    }
}

#[test]
fn auto_computes_the_frozen_features_once_for_every_head_trial_and_survives_an_interruption() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let out = dir.path().join("auto");
    let mut cfg = config(&model, &train_path, &val_path, &out);
    cfg.head_lr = 3e-2;
    let search = AutoConfig {
        budget_minutes: None,
        max_trials: Some(4),
        select_metric: "accuracy".into(),
        cv_folds: Some(0),
    };
    let watcher = SearchWatcher {
        stop_at_fine_tune: true,
        ..SearchWatcher::default()
    };
    let result = run_auto(&cfg, &search, &watcher).unwrap();

    // Half the trials may be head-only: two, on features the encoder computed once.
    let evaluations = watcher.evaluations.borrow();
    let once = |set: &str| {
        evaluations
            .iter()
            .filter(|w| w.starts_with(set) && w.contains("frozen encoder, once"))
            .count()
    };
    assert_eq!(
        (once("training"), once("validation")),
        (1, 1),
        "{evaluations:?}"
    );
    let trials = read_trials(&out.join("trials.jsonl")).unwrap();
    assert_eq!(trials.len(), 2, "the interrupted fine-tune is not a trial");
    assert!(trials
        .iter()
        .all(|t| t.session.starts_with("train_layers 0,")));
    assert_eq!(trials[1].name, "head-lr0.09");
    assert_eq!(trials[1].changes["head_lr"], "0.09");
    assert_eq!(result.ended, "interrupted");
    assert_eq!(trials.iter().filter(|t| t.chosen).count(), 1);
    assert_eq!(
        result.chosen.index,
        trials.iter().find(|t| t.chosen).unwrap().index
    );
    assert!(result.test.is_none(), "no test file, no test scores");
    // The chosen model is the run folder's, and the interrupted trial left no folder.
    assert!(out.join("model/model.safetensors").is_file());
    let folders = std::fs::read_dir(out.join("trials")).unwrap().count();
    assert_eq!(folders, 2);
    assert!(watcher
        .messages
        .borrow()
        .iter()
        .any(|m| m.starts_with("trial 2 head-lr0.09: val accuracy")));
}

#[test]
fn auto_cross_validates_every_trial_when_asked_and_predicts_with_what_it_chose() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let out = dir.path().join("auto-cv");
    let mut cfg = config(&model, &train_path, &val_path, &out);
    cfg.val = None;
    let search = AutoConfig {
        budget_minutes: None,
        max_trials: Some(4),
        select_metric: "accuracy".into(),
        cv_folds: Some(4),
    };
    let result = run_auto(&cfg, &search, &Silent).unwrap();
    let trials = read_trials(&out.join("trials.jsonl")).unwrap();
    assert_eq!(trials.len(), 4);
    for t in &trials {
        let cv = t.cv.as_ref().unwrap_or_else(|| panic!("{t:?}"));
        // Without a time limit every fold runs, head-only or not.
        assert_eq!(
            (cv.k, cv.folds.clone()),
            (4, vec![1, 2, 3, 4]),
            "{}",
            t.name
        );
        assert_eq!(cv.fold_scores.len(), 4);
        assert!(cv.standard_error.is_some());
        assert_eq!(t.val_metric, cv.score_on_folds_run);
        let run = out.join(&t.run_dir);
        // Out-of-fold predictions of all 16 pooled rows, and the folds' averaged curves.
        let saved: Value = serde_json::from_str(
            &std::fs::read_to_string(run.join("predictions_val.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(saved["y_true"].as_array().unwrap().len(), 16);
        let metrics: Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("metrics.json")).unwrap())
                .unwrap();
        assert_eq!(
            metrics["cross_validation"]["per_fold"]
                .as_array()
                .unwrap()
                .len(),
            4
        );
        assert!(history(&run)[0]["folds"].as_u64().unwrap() >= 1);
    }
    let head = &trials[0];
    assert!(head.session.starts_with("train_layers 0,"));
    assert!(head
        .cv
        .as_ref()
        .unwrap()
        .model
        .contains("all 16 pooled rows"));
    let tune = trials
        .iter()
        .find(|t| !t.session.starts_with("train_layers 0,"))
        .unwrap();
    assert!(tune
        .cv
        .as_ref()
        .unwrap()
        .model
        .contains("average of the 4 fold models"));
    let auto: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("auto.json")).unwrap()).unwrap();
    assert_eq!(auto["cross_validation"]["k"], 4);
    assert_eq!(auto["cross_validation"]["fine_tune_folds"], 4);
    assert!(auto["cross_validation"]["fine_tune_folds_why"]
        .as_str()
        .unwrap()
        .contains("no time limit"));
    assert_eq!(
        auto["cross_validation"]["fold_rows"],
        serde_json::json!([4, 4, 4, 4])
    );
    // The run folder predicts with the choice: a refit head, or fold models averaged.
    let predictor = goodfit::train::predictor::Predictor::open(&out).unwrap();
    let predicted = predictor
        .predict(&["great tea".to_string()], Path::new(""), 8, &mut |_| {})
        .unwrap();
    assert!((predicted.proba[0].iter().sum::<f64>() - 1.0).abs() < 1e-6);
    if !result.chosen.session.starts_with("train_layers 0,") || result.ensemble.is_some() {
        assert!(out.join("ensemble.json").is_file());
    }
}

#[test]
fn a_diverging_trial_is_recorded_and_the_search_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let out = dir.path().join("auto");
    let mut cfg = config(&model, &train_path, &val_path, &out);
    // The encoder's rate is absurd: every fine-tune diverges; head-only trials train.
    cfg.lr = 1e30;
    let search = AutoConfig {
        budget_minutes: None,
        max_trials: Some(3),
        select_metric: "accuracy".into(),
        cv_folds: Some(0),
    };
    run_auto(&cfg, &search, &Silent).unwrap();
    let trials = read_trials(&out.join("trials.jsonl")).unwrap();
    assert!(
        trials
            .iter()
            .any(|t| t.error.as_deref().is_some_and(|e| e.contains("diverged"))),
        "{trials:?}"
    );
    assert!(trials.iter().any(|t| t.error.is_none() && t.chosen));
}

/// An observer that breaks the model folder's vocabulary once the first session is open.
struct Saboteur {
    vocab: std::path::PathBuf,
}

impl Observer for Saboteur {
    fn message(&self, text: &str) {
        if text.starts_with("trial ") {
            std::fs::write(&self.vocab, "").unwrap();
        }
    }
}

#[test]
fn any_other_error_in_a_trial_stops_the_search_with_its_message() {
    let dir = tempfile::tempdir().unwrap();
    let (model, train_path, val_path) = setup(dir.path());
    let out = dir.path().join("auto");
    let cfg = config(&model, &train_path, &val_path, &out);
    let search = AutoConfig {
        budget_minutes: None,
        max_trials: Some(4),
        select_metric: "accuracy".into(),
        cv_folds: Some(0),
    };
    let saboteur = Saboteur {
        vocab: model.join("vocab.txt"),
    };
    let error = run_auto(&cfg, &search, &saboteur)
        .err()
        .expect("the search stops")
        .to_string();
    assert!(error.contains("vocab.txt"), "{error}");
}
