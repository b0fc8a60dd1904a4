"""imbalanced-learn's samplers, computed by goodfit: ``fit_resample(X, y)`` returns numpy
arrays, with imbalanced-learn's rows for the deterministic methods (Tomek links, ENN,
NearMiss) and its counts and construction for the random ones (whose draws come from
goodfit's seeded generator, not numpy's).

    >>> from goodfit.sampling import SMOTE
    >>> X_res, y_res = SMOTE(k_neighbors=5, random_state=0).fit_resample(X, y)
"""

from __future__ import annotations

import json
from typing import Any, Dict, Tuple

import numpy as np

from . import _goodfit
from .errors import InputError

__all__ = [
    "RandomOverSampler",
    "RandomUnderSampler",
    "SMOTE",
    "BorderlineSMOTE",
    "ADASYN",
    "TomekLinks",
    "EditedNearestNeighbours",
    "NearMiss",
    "SMOTETomek",
    "SMOTEENN",
    "methods",
]


# Parameters that choose the method (sent as its name) rather than tune it.
_IN_METHOD_NAME = ("sampling_strategy", "kind", "version")


def methods() -> list:
    """The method names of ``goodfit resample --method``."""
    return list(_goodfit.methods())


class _Sampler:
    """Parameters as imbalanced-learn names them; ``get_params``/``set_params`` as
    scikit-learn's; after ``fit_resample``, ``sample_indices_`` (the input rows kept or
    copied, in output order; new synthetic rows are not in it) and ``sampling_strategy_``
    (rows per class after resampling)."""

    _method = ""
    _params: Tuple[str, ...] = ()

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        return {name: getattr(self, name) for name in self._params}

    def set_params(self, **params: Any) -> "_Sampler":
        for name, value in params.items():
            if name not in self._params:
                raise InputError(
                    f"{type(self).__name__}: unknown parameter '{name}' (its parameters are: {', '.join(self._params)})"
                )
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _method_name(self) -> str:
        return self._method

    def _strategy(self, y: np.ndarray, classes: np.ndarray) -> Dict[str, Any]:
        strategy = getattr(self, "sampling_strategy", "auto")
        if callable(strategy):
            strategy = strategy(y)
        index = {value: i for i, value in enumerate(classes.tolist())}

        def class_of(label: Any) -> int:
            key = label.item() if hasattr(label, "item") else label
            if key not in index:
                raise InputError(
                    f"sampling_strategy: {label!r} is not a class (the classes are: {classes.tolist()})"
                )
            return index[key]

        if isinstance(strategy, str):
            return {"keyword": strategy}
        if isinstance(strategy, (float, int)) and not isinstance(strategy, bool):
            return {"ratio": float(strategy)}
        if isinstance(strategy, dict):
            return {"counts": {str(class_of(k)): int(v) for k, v in strategy.items()}}
        if isinstance(strategy, (list, tuple)):
            return {"classes": [class_of(k) for k in strategy]}
        raise InputError(f"sampling_strategy: cannot use {strategy!r}")

    def fit_resample(self, X: Any, y: Any) -> Tuple[np.ndarray, np.ndarray]:
        """Resamples the numeric table ``X`` (n_rows × n_features) with labels ``y``."""
        table = np.asarray(X, dtype=np.float64)
        labels = np.asarray(y)
        if table.ndim != 2:
            raise InputError(f"X must be a 2-d table of numbers, not of shape {table.shape}")
        if labels.ndim != 1 or len(labels) != len(table):
            raise InputError(f"X has {len(table)} rows but y has shape {labels.shape}")
        if not np.isfinite(table).all():
            row = int(np.argwhere(~np.isfinite(table))[0][0])
            raise InputError(f"X: row {row} holds a value that is not a finite number")
        classes, codes = np.unique(labels, return_inverse=True)
        params = {
            name: getattr(self, name)
            for name in self._params
            if name not in _IN_METHOD_NAME and getattr(self, name) is not None
        }
        params["sampling_strategy"] = self._strategy(labels, classes)
        method = self._method_name()
        x_bytes, y_codes, origin = _goodfit.resample(
            method,
            np.ascontiguousarray(table, dtype="<f8").tobytes(),
            table.shape[0],
            table.shape[1],
            codes.astype(np.int64).tolist(),
            len(classes),
            json.dumps(params),
            [str(c) for c in classes],
        )
        X_res = np.frombuffer(x_bytes, dtype="<f8").reshape(-1, table.shape[1]).copy()
        y_res = classes[np.asarray(y_codes, dtype=np.int64)]
        origin = np.asarray(origin, dtype=np.int64)
        self.sample_indices_ = origin[origin >= 0]
        values, counts = np.unique(y_res, return_counts=True)
        self.sampling_strategy_ = dict(zip(values.tolist(), counts.tolist()))
        return X_res, y_res

    fit_sample = fit_resample


class RandomOverSampler(_Sampler):
    """Copies random rows of the classes to grow (``RandomOverSampler``)."""

    _method = "random-over"
    _params = ("sampling_strategy", "random_state")

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: int = 0) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state


class RandomUnderSampler(_Sampler):
    """Keeps random rows of the classes to shrink (``RandomUnderSampler``)."""

    _method = "random-under"
    _params = ("sampling_strategy", "random_state")

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: int = 0) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state


class SMOTE(_Sampler):
    """New rows between a row and its same-class neighbours (``SMOTE``)."""

    _method = "smote"
    _params = ("sampling_strategy", "random_state", "k_neighbors")

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: int = 0, k_neighbors: int = 5) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.k_neighbors = k_neighbors


class BorderlineSMOTE(_Sampler):
    """SMOTE grown from rows near other classes (``BorderlineSMOTE``, kind
    ``borderline-1`` or ``borderline-2``)."""

    _params = ("sampling_strategy", "random_state", "k_neighbors", "m_neighbors", "kind")

    def __init__(
        self,
        *,
        sampling_strategy: Any = "auto",
        random_state: int = 0,
        k_neighbors: int = 5,
        m_neighbors: int = 10,
        kind: str = "borderline-1",
    ) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.k_neighbors = k_neighbors
        self.m_neighbors = m_neighbors
        self.kind = kind

    def _method_name(self) -> str:
        kinds = {"borderline-1": "borderline1", "borderline-2": "borderline2"}
        if self.kind not in kinds:
            raise InputError(f"BorderlineSMOTE: kind must be 'borderline-1' or 'borderline-2', not {self.kind!r}")
        return kinds[self.kind]


class ADASYN(_Sampler):
    """SMOTE with more new rows where other classes crowd in (``ADASYN``)."""

    _method = "adasyn"
    _params = ("sampling_strategy", "random_state", "n_neighbors")

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: int = 0, n_neighbors: int = 5) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.n_neighbors = n_neighbors


class TomekLinks(_Sampler):
    """Removes rows that are mutual nearest neighbours of another class (``TomekLinks``)."""

    _method = "tomek"
    _params = ("sampling_strategy",)

    def __init__(self, *, sampling_strategy: Any = "auto") -> None:
        self.sampling_strategy = sampling_strategy


class EditedNearestNeighbours(_Sampler):
    """Removes rows their neighbours disagree with (``EditedNearestNeighbours``)."""

    _method = "enn"
    _params = ("sampling_strategy", "n_neighbors", "kind_sel")

    def __init__(self, *, sampling_strategy: Any = "auto", n_neighbors: int = 3, kind_sel: str = "all") -> None:
        self.sampling_strategy = sampling_strategy
        self.n_neighbors = n_neighbors
        self.kind_sel = kind_sel


class NearMiss(_Sampler):
    """Keeps the majority rows nearest the minority (``NearMiss``, version 1, 2 or 3)."""

    _params = ("sampling_strategy", "version", "n_neighbors", "n_neighbors_ver3")

    def __init__(
        self, *, sampling_strategy: Any = "auto", version: int = 1, n_neighbors: int = 3, n_neighbors_ver3: int = 3
    ) -> None:
        self.sampling_strategy = sampling_strategy
        self.version = version
        self.n_neighbors = n_neighbors
        self.n_neighbors_ver3 = n_neighbors_ver3

    def _method_name(self) -> str:
        if self.version not in (1, 2, 3):
            raise InputError(f"NearMiss: version must be 1, 2 or 3, not {self.version!r}")
        return f"nearmiss{self.version}"


class SMOTETomek(_Sampler):
    """SMOTE, then Tomek links removed from every class (``SMOTETomek``)."""

    _method = "smote-tomek"
    _params = ("sampling_strategy", "random_state", "k_neighbors")

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: int = 0, k_neighbors: int = 5) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.k_neighbors = k_neighbors


class SMOTEENN(_Sampler):
    """SMOTE, then ENN cleaning of every class (``SMOTEENN``; ``n_neighbors`` is ENN's)."""

    _method = "smote-enn"
    _params = ("sampling_strategy", "random_state", "k_neighbors", "n_neighbors")

    def __init__(
        self, *, sampling_strategy: Any = "auto", random_state: int = 0, k_neighbors: int = 5, n_neighbors: int = 3
    ) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.k_neighbors = k_neighbors
        self.n_neighbors = n_neighbors
