//! Bad inputs, planted links and borrowed paths (issue 13): each ends in one clear error
//! with exit status 2, names the file, line, field or flag, and loses no finished run.

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;
use common::{goodfit, ok, refused};

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `predict --run RUN --input INPUT --output OUTPUT --quiet`.
fn predict_args<'a>(run: &'a str, input: &'a str, output: &'a str) -> [&'a str; 8] {
    [
        "predict", "--run", run, "--input", input, "--output", output, "--quiet",
    ]
}

/// `train --model MODEL --train TRAIN` and the rest.
fn train_args<'a>(model: &'a str, train: &'a str, rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["train", "--model", model, "--train", train];
    args.extend_from_slice(rest);
    args
}

struct Setup {
    dir: tempfile::TempDir,
    model: PathBuf,
    train: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (model, train) = common::setup(dir.path());
    Setup { dir, model, train }
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn train(&self, out: &Path, extra: &[&str]) -> Output {
        let mut args = vec![
            "train",
            "--model",
            s(&self.model),
            "--train",
            s(&self.train),
            "--val",
            s(&self.train),
            "--out",
            s(out),
            "--epochs",
            "1",
            "--quiet",
        ];
        args.extend_from_slice(extra);
        goodfit(&args)
    }
}

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn a_finished_run_survives_a_typo_and_is_replaced_only_when_asked() {
    let t = setup();
    let out = t.path("run");
    assert!(t.train(&out, &[]).status.success());
    let before = snapshot(&out);
    assert!(before.iter().any(|(p, _)| p.ends_with("metrics.json")));

    // A typo in --train: the error names the file, the run is untouched.
    let error = refused(&train_args(
        s(&t.model),
        s(&t.path("trian.jsonl")),
        &["--out", s(&out), "--overwrite", "--quiet"],
    ));
    assert!(error.contains("trian.jsonl"), "{error}");
    assert_eq!(snapshot(&out), before, "the finished run is intact");

    // Good inputs, but the folder holds a run: refused without --overwrite.
    let output = t.train(&out, &[]);
    let error = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{error}");
    assert!(
        error.contains("--overwrite") && error.contains("metrics.json"),
        "{error}"
    );
    assert_eq!(snapshot(&out), before);
    // A model folder that is missing: also checked before the run folder is touched.
    let error = refused(&train_args(
        s(&t.path("nomodel")),
        s(&t.train),
        &["--out", s(&out), "--overwrite", "--quiet"],
    ));
    assert!(error.contains("nomodel"), "{error}");
    assert_eq!(snapshot(&out), before);

    assert!(t
        .train(&out, &["--overwrite", "--seed", "9"])
        .status
        .success());
    assert_ne!(snapshot(&out), before, "replaced when asked");

    // A failed start in a fresh folder leaves nothing behind.
    let fresh = t.path("fresh");
    let error = refused(&train_args(
        s(&t.model),
        s(&t.path("missing.csv")),
        &["--out", s(&fresh), "--quiet"],
    ));
    assert!(error.contains("missing.csv"), "{error}");
    assert!(!fresh.exists(), "no half-prepared folder");
    // An operating-system error says what it says once.
    assert_eq!(error.matches("os error").count(), 1, "{error}");
}

#[cfg(unix)]
#[test]
fn predictions_never_write_through_a_planted_link() {
    let t = setup();
    let run = t.path("run");
    assert!(t.train(&run, &[]).status.success());
    let victim = t.path("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out = t.path("out.csv");
    std::os::unix::fs::symlink(&victim, t.path("out.csv.tmp")).unwrap();
    ok(&predict_args(s(&run), s(&t.train), s(&out)));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(std::fs::read_to_string(&out).unwrap().starts_with("text"));
    // No temporary file is left next to the output.
    let strays: Vec<String> = std::fs::read_dir(t.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out.csv"))
        .collect();
    assert!(strays.is_empty(), "{strays:?}");
}

#[test]
fn ensemble_members_must_live_inside_their_run_folder() {
    let t = setup();
    let other = t.path("other");
    assert!(t.train(&other, &[]).status.success());
    let run = t.path("run");
    std::fs::create_dir_all(&run).unwrap();
    for member in ["../other/model", s(&other.join("model"))] {
        std::fs::write(
            run.join("ensemble.json"),
            format!("{{\"members\": [\"{member}\"]}}"),
        )
        .unwrap();
        let error = refused(&predict_args(s(&run), s(&t.train), s(&t.path("p.csv"))));
        assert!(
            error.contains("ensemble.json") && error.contains("members") && error.contains(member),
            "{error}"
        );
        assert!(!t.path("p.csv").exists());
    }
}

#[test]
fn a_pickle_in_the_model_folder_is_never_loaded() {
    let t = setup();
    let model = t.path("trapped");
    std::fs::create_dir_all(&model).unwrap();
    for file in ["config.json", "vocab.txt"] {
        std::fs::copy(t.model.join(file), model.join(file)).unwrap();
    }
    // A protocol-0 pickle whose loading runs `os.system("touch MARKER")`.
    let marker = t.path("MARKER");
    let pickle = format!("cos\nsystem\n(S'touch {}'\ntR.", marker.display());
    std::fs::write(model.join("pytorch_model.bin"), pickle).unwrap();
    let error = refused(&train_args(
        s(&model),
        s(&t.train),
        &["--out", s(&t.path("run")), "--quiet"],
    ));
    assert!(error.contains("pickle"), "{error}");
    assert!(!marker.exists());
    assert!(!t.path("run").exists());
}

#[test]
fn data_that_was_accepted_silently_is_refused_with_its_place() {
    let t = setup();
    let run = t.path("run");
    let train_with = |name: &str, content: &str| {
        let path = t.path(name);
        std::fs::write(&path, content).unwrap();
        refused(&train_args(
            s(&t.model),
            s(&path),
            &["--out", s(&run), "--quiet"],
        ))
    };
    let cases = [
        (
            "dup.csv",
            "text,text,label\na,b,pos\nc,d,neg\n",
            ["dup.csv:1", "'text' twice"],
        ),
        (
            "nested.jsonl",
            "{\"text\": \"a\", \"label\": \"pos\"}\n{\"text\": \"b\", \"label\": {\"a\": 1}}\n",
            ["nested.jsonl:2", "JSON object or array"],
        ),
        (
            "twice.jsonl",
            "{\"text\": \"a\", \"label\": \"pos\", \"text\": \"b\"}\n",
            ["twice.jsonl:1", "'text' appears twice"],
        ),
        (
            "quote.csv",
            "text,label\ngood,pos\n\"bad, neg\nfine,pos\nok,neg\n",
            ["quote.csv:3", "quote opened on line 3"],
        ),
    ];
    for (name, content, expected) in cases {
        let error = train_with(name, content);
        assert!(expected.iter().all(|e| error.contains(e)), "{error}");
    }
    assert!(!run.exists());
}

#[test]
fn zero_sizes_and_overlong_inputs_are_refused_by_flag() {
    let t = setup();
    let run = t.path("run");
    let error =
        String::from_utf8_lossy(&t.train(&run, &["--train-eval-size", "0"]).stderr).into_owned();
    assert!(error.contains("--train-eval-size"), "{error}");
    assert!(!run.exists());
    assert!(t.train(&run, &[]).status.success());
    for command in ["predict", "eval"] {
        let mut args = vec![command, "--run", s(&run)];
        if command == "predict" {
            args.extend(["--input", s(&t.train), "--output", "p.csv"]);
        } else {
            args.extend(["--data", s(&t.train)]);
        }
        args.extend(["--batch-size", "0"]);
        let error = refused(&args);
        assert!(error.contains("--batch-size"), "{error}");
    }
    let error = refused(&predict_args(s(&run), s(&t.train), s(&t.train)));
    assert!(error.contains("never writes over its input"), "{error}");
    assert!(std::fs::read_to_string(&t.train)
        .unwrap()
        .contains("great tea"));
    let error = String::from_utf8_lossy(&t.train(&t.path("r2"), &["--text-col", "label"]).stderr)
        .into_owned();
    assert!(error.contains("--text-col and --label-col"), "{error}");
    let error = refused(&["bench", "--model", s(&t.model), "--batch-size", "0"]);
    assert!(error.contains("--batch-size"), "{error}");
    let error = refused(&["bench", "--model", s(&t.model), "--seq-len", "600"]);
    assert!(
        error.contains("--seq-len 600") && error.contains("64 positions"),
        "{error}"
    );

    // A saved max_len the model cannot take.
    let info_path = run.join("model/goodfit.json");
    let mut info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&info_path).unwrap()).unwrap();
    info["max_len"] = 600.into();
    std::fs::write(&info_path, info.to_string()).unwrap();
    let error = refused(&predict_args(s(&run), s(&t.train), s(&t.path("p.csv"))));
    assert!(
        error.contains("goodfit.json") && error.contains("max_len") && error.contains("64"),
        "{error}"
    );
}

#[test]
fn model_links_and_config_types_are_named() {
    let t = setup();
    #[cfg(unix)]
    {
        let looped = t.path("loop");
        std::os::unix::fs::symlink(&looped, &looped).unwrap();
        let error = refused(&train_args(
            s(&looped),
            s(&t.train),
            &["--out", s(&t.path("run"))],
        ));
        assert!(error.contains("link that cannot be followed"), "{error}");
    }
    for (device, expected) in [("cuda:0", "--device cuda:0"), ("gpu", "--device 'gpu'")] {
        let error = refused(&train_args(
            s(&t.model),
            s(&t.train),
            &["--device", device, "--out", s(&t.path("run"))],
        ));
        assert!(error.contains(expected), "{error}");
        assert!(!t.path("run").exists());
    }
    let config = t.path("settings.toml");
    std::fs::write(&config, "lr = 1e-4\nepochs = \"three\"\n").unwrap();
    let error = refused(&train_args(
        s(&t.model),
        s(&t.train),
        &["--config", s(&config), "--out", s(&t.path("run"))],
    ));
    assert!(
        error.contains("settings.toml:2") && error.contains("epochs"),
        "{error}"
    );
}
