"""goodfit: fine-tune pretrained models on small labelled datasets and keep them out of
overfitting, underfitting and class imbalance — from Python.

    >>> import goodfit
    >>> run = goodfit.train(model="models/all-MiniLM-L6-v2", train=df, test=test_df, seed=42)
    >>> run.metrics["test"]["f1_macro"], run.diagnosis
    >>> run.predict(["great coffee", "arrived broken"])

- :func:`train` and :func:`load_run` → :class:`Run` (metrics, history, diagnosis, trials,
  report, ``predict``/``predict_proba``);
- :class:`FineTunedClassifier`: a scikit-learn estimator (needs scikit-learn);
- :mod:`goodfit.sampling`: imbalanced-learn's samplers; :mod:`goodfit.metrics`: the metric
  suite, equal to scikit-learn;
- :mod:`goodfit.errors`: the exceptions (bad input is an ``InputError``, a ``ValueError``).
"""

from __future__ import annotations

from typing import Any

from . import errors, metrics, sampling
from ._goodfit import __version__
from .errors import GoodfitError, InputError, Interrupted
from .run import Run, Verdict, load_run, setting_names, train

__all__ = [
    "train",
    "load_run",
    "Run",
    "Verdict",
    "setting_names",
    "FineTunedClassifier",
    "GoodfitError",
    "InputError",
    "Interrupted",
    "errors",
    "metrics",
    "sampling",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # scikit-learn is imported only when the estimator is asked for.
    if name == "FineTunedClassifier":
        from .estimator import FineTunedClassifier

        return FineTunedClassifier
    raise AttributeError(f"module 'goodfit' has no attribute {name!r}")
