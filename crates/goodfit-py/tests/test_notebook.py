"""The example notebook runs as a script and gives the command line's test macro-F1 with
the same seed and settings (its DataFrames become the same rows goodfit reads from the
files)."""

import json
import os
import subprocess

import pytest

import goodfit

from conftest import FINE_FOODS, REPO

NOTEBOOK = REPO / "crates/goodfit-py/examples/fine_foods.ipynb"


def goodfit_binary():
    path = os.environ.get("GOODFIT_BIN") or str(REPO / "target/release/goodfit")
    if not os.path.isfile(path):
        if os.environ.get("GOODFIT_REQUIRE_MODEL") == "1":
            pytest.fail(f"{path} is missing: cargo build --release")
        pytest.skip(f"{path} is missing (cargo build --release)")
    return path


def test_the_notebook_reproduces_the_command_line(model, tmp_path, monkeypatch):
    binary = goodfit_binary()
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    source = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    monkeypatch.chdir(REPO / "crates/goodfit-py")  # the notebook finds the root itself
    namespace = {}
    exec(compile(source, str(NOTEBOOK), "exec"), namespace)
    run = namespace["run"]
    assert run.diagnosis and len(run.predict(["fine"])) == 1

    flags = []
    for name, value in namespace["SETTINGS"].items():
        flags += [f"--{name.replace('_', '-')}", str(value)]
    out = tmp_path / "cli"
    subprocess.run(
        [binary, "train", "--model", model, "--train", str(FINE_FOODS / "train.jsonl"),
         "--test", str(FINE_FOODS / "test.jsonl"), "--out", str(out), "--quiet", *flags],
        check=True, capture_output=True,
    )
    cli = goodfit.load_run(out)
    assert run.metrics["test"]["f1_macro"] == pytest.approx(cli.metrics["test"]["f1_macro"], abs=1e-9)
    assert run.metrics["val"] == cli.metrics["val"]
