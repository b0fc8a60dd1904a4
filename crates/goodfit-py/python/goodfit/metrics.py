"""``goodfit.metrics.report``: every metric of ``goodfit evaluate``, equal to scikit-learn."""

from __future__ import annotations

import json
from typing import Any, Dict, Optional, Sequence

import numpy as np

from . import _goodfit
from .errors import InputError

__all__ = ["report"]


def report(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    proba: Optional[Any] = None,
    labels: Optional[Sequence[Any]] = None,
) -> Dict[str, Any]:
    """The metric dict of ``goodfit evaluate --json`` for ``y_true`` and ``y_pred``.

    Classes are ``labels`` when given, else the sorted union of ``y_true`` and ``y_pred``
    (scikit-learn's order); ``proba`` (n_rows × n_classes, columns in that order) adds
    the log-loss, ROC-AUC and the other probability metrics. Accuracy, the F1 scores,
    balanced accuracy, MCC and the per-class scores equal scikit-learn's.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise InputError(
            f"report: y_true has shape {y_true.shape} and y_pred {y_pred.shape}; both must be one label per row"
        )
    classes = list(labels) if labels is not None else np.unique(np.concatenate([y_true, y_pred])).tolist()
    index = {c: i for i, c in enumerate(classes)}
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        for row, value in enumerate(values.tolist()):
            if value not in index:
                raise InputError(f"report: {name}[{row}] is {value!r}, not one of the labels {classes}")
    rows = None
    if proba is not None:
        array = np.asarray(proba, dtype=float)
        if array.shape != (len(y_true), len(classes)):
            raise InputError(
                f"report: proba has shape {array.shape}; expected ({len(y_true)}, {len(classes)})"
            )
        rows = array.tolist()
    text = _goodfit.report(
        [index[v] for v in y_true.tolist()],
        [index[v] for v in y_pred.tolist()],
        [str(c) for c in classes],
        rows,
    )
    return json.loads(text)
