"""Shared fixtures: the repository's paths, the real model (skipped when missing unless
GOODFIT_REQUIRE_MODEL=1, as the Rust tests do), and a private data and feature folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
MODEL = REPO / "models" / "all-MiniLM-L6-v2"
FINE_FOODS = REPO / "examples" / "fine_foods"


@pytest.fixture(autouse=True)
def private_folders(tmp_path_factory, monkeypatch):
    """DataFrames and cached features go to this session's folders, not the user's."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("GOODFIT_FRAMES", str(base / "frames"))
    monkeypatch.setenv("GOODFIT_CACHE", str(base / "features"))


@pytest.fixture
def model() -> str:
    if not (MODEL / "model.safetensors").is_file():
        if os.environ.get("GOODFIT_REQUIRE_MODEL") == "1":
            pytest.fail(f"{MODEL} is missing: run scripts/fetch-model.sh")
        pytest.skip(f"{MODEL} is missing (scripts/fetch-model.sh fetches it)")
    return str(MODEL)


@pytest.fixture
def fine_foods():
    """The shipped reviews: (train, test) DataFrames."""
    import pandas as pd

    train = pd.read_json(FINE_FOODS / "train.jsonl", lines=True)
    test = pd.read_json(FINE_FOODS / "test.jsonl", lines=True)
    return train, test
