"""goodfit.train / load_run / Run on the real MiniLM: DataFrames in, a run folder out,
bad input as clear Python exceptions, Ctrl-C and resume."""

import os
import signal

import numpy as np
import pandas as pd
import pytest

import goodfit
from goodfit.errors import InputError, Interrupted

HEAD = dict(train_layers=0, epochs=4, max_len=64, seed=7)


@pytest.fixture
def small(fine_foods):
    train, test = fine_foods
    return train.head(240).reset_index(drop=True), test.head(80).reset_index(drop=True)


def test_train_from_dataframes_gives_a_run(model, small, tmp_path):
    train, test = small
    run = goodfit.train(model=model, train=train, test=test, out=tmp_path / "run", verbose=False, **HEAD)
    assert run.path == tmp_path / "run"
    assert set(run.classes) == set(train["label"])
    assert 0.0 <= run.metrics["test"]["f1_macro"] <= 1.0
    assert list(run.history["epoch"]) == list(range(1, len(run.history) + 1))
    assert {"train_loss", "val_loss", "val_f1_macro"} <= set(run.history.columns)
    assert run.diagnosis and all(v.kind and v.severity and v.summary for v in run.diagnosis)
    assert run.report_path.is_file()
    assert run.trials is None
    html = run._repr_html_()
    assert "test_f1_macro" in html and run.diagnosis[0].kind in html

    texts = test["text"].head(5).tolist()
    predicted = run.predict(texts)
    assert list(predicted.columns) == ["input", "pred"] + [f"prob_{c}" for c in run.classes]
    proba = run.predict_proba(texts)
    assert proba.shape == (5, len(run.classes))
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-6)
    # The run's own test predictions, made again: the same model, the same macro-F1.
    again = run.predict(test["text"].tolist(), argmax=True)
    score = goodfit.metrics.report(test["label"], again["pred"])["f1_macro"]
    assert score == pytest.approx(run.metrics["test"]["f1_macro"], abs=1e-9) or run.config["tune_threshold"]

    opened = goodfit.load_run(run.path)
    assert opened.metrics == run.metrics and len(opened.history) == len(run.history)


def test_a_dataframe_and_its_file_train_the_same(model, small, tmp_path):
    train, _ = small
    path = tmp_path / "train.jsonl"
    train.to_json(path, orient="records", lines=True)
    a = goodfit.train(model=model, train=train, out=tmp_path / "a", verbose=False, **HEAD)
    b = goodfit.train(model=model, train=str(path), out=tmp_path / "b", verbose=False, **HEAD)
    assert a.metrics["val"] == b.metrics["val"]


def test_bad_input_raises_clear_exceptions(model, small, tmp_path):
    train, _ = small
    out = tmp_path / "run"
    with pytest.raises(InputError, match=r"no column 'label' \(the columns are: text, y\)"):
        goodfit.train(model=model, train=train.rename(columns={"label": "y"}), out=out)
    with pytest.raises(ValueError, match=r"row 3 \(index 3\), column 'label': the value is missing"):
        bad = train.copy()
        bad.loc[3, "label"] = np.nan
        goodfit.train(model=model, train=bad, out=out)
    with pytest.raises(InputError, match="DataFrame is empty"):
        goodfit.train(model=model, train=train.head(0), out=out)
    with pytest.raises(InputError, match="unknown setting 'epoch'; did you mean 'epochs'"):
        goodfit.train(model=model, train=train, out=out, epoch=3)
    with pytest.raises(InputError, match="setting 'epochs'"):
        goodfit.train(model=model, train=train, out=out, epochs="three")
    with pytest.raises(InputError, match="text"):
        goodfit.train(model=model, train=train.assign(text=1.5), out=out)
    with pytest.raises(InputError, match="max_trials sets up a search"):
        goodfit.train(model=model, train=train, out=out, max_trials=2)
    with pytest.raises(OSError, match="nope.csv"):
        goodfit.train(model=model, train=tmp_path / "nope.csv", out=out)
    with pytest.raises(InputError, match="pandas DataFrame"):
        goodfit.train(model=model, train=[1, 2, 3], out=out)
    # Nothing was written by any of them.
    assert not out.exists()
    # A finished run is never replaced without overwrite=True.
    goodfit.train(model=model, train=train, out=out, verbose=False, **HEAD)
    with pytest.raises(InputError, match="overwrite"):
        goodfit.train(model=model, train=train, out=out, verbose=False, **HEAD)
    with pytest.raises(InputError, match="not a finished goodfit run"):
        goodfit.load_run(tmp_path)


def test_ctrl_c_stops_after_the_batch_and_the_run_resumes(model, small, tmp_path):
    train, test = small
    out = tmp_path / "run"
    settings = dict(train_layers=1, epochs=3, max_len=32, seed=5, patience=0)
    seen = []

    def interrupt_after_first_epoch(kind, payload):
        if kind == "epoch":
            seen.append(payload)
            os.kill(os.getpid(), signal.SIGINT)  # what a notebook's interrupt sends

    # Python's own Ctrl-C handler, as in a notebook: a shell that starts the tests in the
    # background (`cmd &` without job control) leaves SIGINT ignored, and Python keeps that.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(Interrupted) as caught:
            goodfit.train(model=model, train=train, test=test, out=out, progress=interrupt_after_first_epoch, **settings)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert isinstance(caught.value, KeyboardInterrupt)
    assert caught.value.epochs_done == 1 and len(seen) == 1
    assert "resume=" in str(caught.value)
    resumed = goodfit.train(resume=caught.value.run_dir, verbose=False)
    assert resumed.metrics["epochs_run"] == 3
    straight = goodfit.train(model=model, train=train, test=test, out=tmp_path / "straight", verbose=False, **settings)
    assert resumed.metrics["test"]["f1_macro"] == pytest.approx(straight.metrics["test"]["f1_macro"], abs=1e-6)


def test_auto_search_returns_its_trials(model, small, tmp_path):
    train, test = small
    run = goodfit.train(
        model=model, train=train, test=test, out=tmp_path / "auto", auto=True,
        max_trials=2, cv_folds=0, verbose=False, max_len=64, seed=3,
    )
    assert isinstance(run.trials, pd.DataFrame) and len(run.trials) == 2
    assert "test" in run.metrics


def test_cv_folds_without_a_search_cross_validates_the_configuration(model, small, tmp_path):
    train, test = small
    run = goodfit.train(model=model, train=train, test=test, out=tmp_path / "cv", cv_folds=3, verbose=False, **HEAD)
    section = run.metrics["cross_validation"]
    assert section["k"] == 3 and len(section["per_fold"]) == 3
    # Every training row predicted out of fold; a head-only run refits on all of them.
    assert section["rows"] == len(train)
    assert "test" in run.metrics and run.trials is None
    with pytest.raises(InputError, match="cv_folds"):
        goodfit.train(resume=run.path, cv_folds=3, verbose=False)


def test_training_releases_the_interpreter(model, small, tmp_path):
    """Another Python thread keeps running while goodfit trains."""
    import threading
    import time

    train, _ = small
    ticks = []
    done = threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    ticker = threading.Thread(target=tick)
    ticker.start()
    start = time.monotonic()
    try:
        goodfit.train(model=model, train=train, out=tmp_path / "run", verbose=False,
                      train_layers=1, epochs=1, max_len=32, seed=2)
    finally:
        done.set()
        ticker.join()
    seconds = time.monotonic() - start
    # A held interpreter would have let the ticker run only between callbacks.
    assert len(ticks) > 0.25 * seconds / 0.01, (len(ticks), seconds)


def test_a_pyarrow_table_trains_as_its_dataframe(model, small, tmp_path):
    pa = pytest.importorskip("pyarrow")
    train, _ = small
    a = goodfit.train(model=model, train=pa.Table.from_pandas(train), out=tmp_path / "a", verbose=False, **HEAD)
    b = goodfit.train(model=model, train=train, out=tmp_path / "b", verbose=False, **HEAD)
    assert a.metrics["val"] == b.metrics["val"]
