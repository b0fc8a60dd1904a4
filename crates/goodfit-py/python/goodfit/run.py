"""Training runs: :func:`train`, :func:`load_run` and the :class:`Run` they return."""

from __future__ import annotations

import difflib
import html
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _goodfit
from ._frames import as_data_path, unwrap_scalar
from .errors import InputError

__all__ = ["train", "load_run", "Run", "Verdict", "setting_names"]

# Settings of `train` that are not `goodfit train` configuration keys.
_SEARCH = ("max_trials", "select_metric", "cv_folds")


def setting_names() -> List[str]:
    """Every setting :func:`train` takes as a keyword: ``goodfit train``'s flags in
    snake_case (``train_layers``, ``class_weight``, ``max_len``, …)."""
    return list(_goodfit.setting_names())


@dataclass
class Verdict:
    """One finding of the diagnosis: ``kind`` (``overfitting``, ``underfitting``,
    ``imbalance_bias``, ``good_fit``, …), ``severity`` (``low``, ``medium``, ``high``),
    a plain ``summary`` with its numbers, the ``evidence`` it rests on and the
    ``remedies`` (each a dict with ``flags`` and ``why``), most promising first."""

    kind: str
    severity: str
    summary: str
    evidence: Dict[str, Any] = field(default_factory=dict)
    remedies: List[Dict[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.kind} ({self.severity}): {self.summary}"


def _label_values(labels: Sequence[str]) -> List[Any]:
    """Labels as goodfit saved them (text), as integers when every one is an integer."""
    try:
        numbers = [int(label) for label in labels]
    except ValueError:
        return list(labels)
    return numbers if [str(n) for n in numbers] == list(labels) else list(labels)


class Run:
    """A finished run folder of ``goodfit train`` (or ``--auto``).

    Attributes: ``path``; ``metrics`` (``metrics["val"]`` and ``metrics["test"]``, the
    keys of ``goodfit evaluate``, plus ``best_epoch``, ``epochs_run``, ``val_loss``…);
    ``history`` (a DataFrame, one row per epoch); ``diagnosis`` (a list of
    :class:`Verdict`); ``trials`` (a DataFrame for a search, else None);
    ``report_path``; ``classes`` (the labels in the model's order).
    """

    def __init__(self, path: Union[str, "os.PathLike[str]"]) -> None:
        record = json.loads(_goodfit.load_run(os.fspath(path)))
        self.path = Path(record["out"])
        self.config: Optional[Dict[str, Any]] = record.get("config")
        self.metrics: Dict[str, Any] = record["metrics"]
        self.history = pd.DataFrame(record["history"])
        self.diagnosis = [
            Verdict(
                kind=v.get("kind", ""),
                severity=v.get("severity", ""),
                summary=v.get("summary", ""),
                evidence=v.get("evidence", {}),
                remedies=v.get("remedies", []),
            )
            for v in record["diagnosis"]
        ]
        trials = record.get("trials")
        self.trials: Optional[pd.DataFrame] = (
            pd.DataFrame(trials) if trials is not None else None
        )
        report = record.get("report")
        self.report_path: Optional[Path] = Path(report) if report else None
        self.classes: List[Any] = _label_values(record.get("labels") or [])

    def __repr__(self) -> str:
        return f"goodfit.Run({str(self.path)!r})"

    def headline(self) -> Dict[str, Optional[float]]:
        """Macro-F1 and accuracy on validation and, when scored, on the test file."""
        out: Dict[str, Optional[float]] = {}
        for split in ("val", "test"):
            scores = self.metrics.get(split) or {}
            for key in ("f1_macro", "accuracy"):
                if key in scores:
                    out[f"{split}_{key}"] = scores[key]
        return out

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{v:.4f}</td></tr>"
            for k, v in self.headline().items()
            if isinstance(v, (int, float))
        )
        verdicts = "".join(
            f"<li><b>{html.escape(v.kind)}</b> ({html.escape(v.severity)}): "
            f"{html.escape(v.summary)}"
            + (
                "<br><small>try: "
                + html.escape("; ".join(r.get("flags", "") for r in v.remedies[:3]))
                + "</small>"
                if v.remedies
                else ""
            )
            + "</li>"
            for v in self.diagnosis
        )
        report = (
            f"<p>report: <code>{html.escape(str(self.report_path))}</code></p>"
            if self.report_path
            else ""
        )
        return (
            f"<div><b>goodfit run</b> <code>{html.escape(str(self.path))}</code>"
            f"<table>{rows}</table><ul>{verdicts}</ul>{report}</div>"
        )

    def _predict(self, inputs: Any, argmax: bool, batch_size: int):
        if isinstance(inputs, (str, os.PathLike)):
            inputs = [os.fspath(inputs)]
        texts = [os.fspath(x) if isinstance(x, os.PathLike) else x for x in list(inputs)]
        for position, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(
                    f"predict: input {position} is {type(text).__name__} {text!r}, not text or a path"
                )
        labels, proba, predicted = _goodfit.predict(
            str(self.path), texts, os.getcwd(), batch_size, argmax
        )
        return texts, _label_values(labels), np.asarray(proba, dtype=float), predicted

    def predict(
        self, inputs: Any, *, argmax: bool = False, batch_size: int = 64
    ) -> pd.DataFrame:
        """Classifies texts (or, for an image model, picture paths relative to the
        working directory): a DataFrame with ``input``, ``pred`` (by the model's decision
        rule, or the most probable class with ``argmax=True``) and ``prob_<label>``."""
        texts, labels, proba, predicted = self._predict(inputs, argmax, batch_size)
        frame = pd.DataFrame({"input": texts, "pred": [labels[i] for i in predicted]})
        for c, label in enumerate(labels):
            frame[f"prob_{label}"] = proba[:, c] if len(texts) else []
        return frame

    def predict_proba(self, inputs: Any, *, batch_size: int = 64) -> np.ndarray:
        """Class probabilities, one row per input, columns in :attr:`classes` order."""
        return self._predict(inputs, True, batch_size)[2]


def load_run(path: Union[str, "os.PathLike[str]"]) -> Run:
    """Opens a finished run folder (of ``goodfit train``, ``train --auto`` or
    :func:`train`)."""
    return Run(path)


def _printer(kind: str, payload: str) -> None:
    if kind == "message":
        print(payload, file=sys.stderr)
        return
    record = json.loads(payload)
    parts = [f"epoch {record.get('epoch')}"]
    for key, name in (("train_loss", "train loss"), ("val_loss", "val loss")):
        if record.get(key) is not None:
            parts.append(f"{name} {record[key]:.4f}")
    for key in ("val_f1_macro", "val_accuracy"):
        if record.get(key) is not None:
            parts.append(f"{key} {record[key]:.4f}")
    parts.append(f"{record.get('seconds', 0):.0f} s")
    print(", ".join(parts), file=sys.stderr)


def _settings_json(settings: Dict[str, Any]) -> str:
    known = set(_goodfit.setting_names())
    for name in settings:
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise InputError(
                f"unknown setting '{name}'{hint} (the settings are goodfit train's flags "
                f"in snake_case: goodfit.setting_names())"
            )
    plain = {}
    for name, value in settings.items():
        if value is None:
            continue
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        plain[name] = unwrap_scalar(value)
    try:
        return json.dumps(plain)
    except TypeError as error:
        raise InputError(f"settings: {error}") from None


def train(
    model: Optional[str] = None,
    train: Any = None,
    val: Any = None,
    test: Any = None,
    out: Optional[Union[str, "os.PathLike[str]"]] = None,
    auto: bool = False,
    budget_minutes: Optional[float] = 15,
    *,
    resume: Optional[Union[str, "os.PathLike[str]"]] = None,
    overwrite: bool = False,
    verbose: bool = True,
    progress: Optional[Callable[[str, str], None]] = None,
    **settings: Any,
) -> Run:
    """Fine-tunes ``model`` on ``train`` as ``goodfit train`` does, then diagnoses the run
    and writes its report; returns the :class:`Run`.

    ``train``, ``val`` and ``test`` are file paths (CSV, TSV, JSONL, Parquet, or an image
    folder) or pandas DataFrames (pyarrow Tables too) with the ``text_col`` and
    ``label_col`` columns (``text`` and ``label`` by default). ``out`` is the run folder
    (default ``runs/latest``); an existing run there is replaced only with
    ``overwrite=True``. ``auto=True`` runs ``goodfit train --auto`` within
    ``budget_minutes`` (also ``max_trials``, ``select_metric``, ``cv_folds``).
    Without ``auto``, ``cv_folds=K`` cross-validates the configuration as
    ``goodfit train --cv-folds K`` does: one model per fold, out-of-fold predictions of
    every row, the fold models' average predicting.
    Every other setting is a keyword named as ``goodfit train``'s flag in snake_case
    (``epochs=3``, ``train_layers=0``, ``class_weight="balanced"``, ``seed=42``); see
    :func:`setting_names`. ``resume`` continues an interrupted run folder.

    Training runs with the interpreter released; Ctrl-C (a notebook's interrupt) stops it
    after the current batch and raises :class:`goodfit.errors.Interrupted`, whose
    ``run_dir`` can be resumed. Bad input raises :class:`goodfit.errors.InputError` (a
    ``ValueError``).
    """
    search = {k: settings.pop(k) for k in _SEARCH if k in settings}
    cv_folds = None
    if not auto:
        # Without a search, cv_folds cross-validates the one configuration.
        cv_folds = search.pop("cv_folds", None)
        given = [k for k, v in search.items() if v is not None]
        if given:
            raise InputError(f"{given[0]} sets up a search: add auto=True")
    text_col = settings.get("text_col") or "text"
    label_col = settings.get("label_col") or "label"
    paths = {
        "model": model,
        "train": as_data_path(train, "train", text_col, label_col),
        "val": as_data_path(val, "val", text_col, label_col),
        "test": as_data_path(test, "test", text_col, label_col),
        "out": out,
    }
    for name, value in paths.items():
        if value is not None:
            if name in settings:
                raise InputError(f"{name} is given twice")
            settings[name] = value
    auto_json = None
    if auto:
        auto_json = json.dumps({"budget_minutes": budget_minutes, **search})
    if progress is None and verbose:
        progress = _printer
    if "quiet" not in settings:
        settings["quiet"] = not verbose
    run_dir = _goodfit.train(
        _settings_json(settings),
        auto_json,
        os.fspath(resume) if resume is not None else None,
        overwrite,
        progress,
        unwrap_scalar(cv_folds),
    )
    return Run(run_dir)
