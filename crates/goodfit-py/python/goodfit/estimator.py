"""``FineTunedClassifier``: goodfit as a scikit-learn estimator over texts."""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np
import pandas as pd

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted
except ImportError as error:  # pragma: no cover - the sklearn extra is missing
    raise ImportError(
        "goodfit.FineTunedClassifier needs scikit-learn: pip install 'goodfit[sklearn]'"
    ) from error

from .errors import InputError
from .run import Run, train

__all__ = ["FineTunedClassifier"]


def _texts(X: Any, what: str) -> list:
    """`X` as a list of texts: a list, a 1-d array, a Series, or a one-column DataFrame."""
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise InputError(
                f"{what}: X is a DataFrame of {X.shape[1]} columns; pass one text column "
                "(e.g. df['text'])"
            )
        X = X.iloc[:, 0]
    if isinstance(X, str):
        raise InputError(f"{what}: X must be a list of texts, not one string")
    values = np.asarray(X, dtype=object)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.ndim != 1:
        raise InputError(f"{what}: X must be one text per row, not an array of shape {values.shape}")
    texts = values.tolist()
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(f"{what}: X[{i}] is {type(text).__name__} {text!r}, not text")
    return texts


class FineTunedClassifier(ClassifierMixin, BaseEstimator):
    """A pretrained encoder fine-tuned by goodfit, as a scikit-learn classifier of texts.

    ``fit(X, y)`` trains on the texts ``X`` (a list, array or Series of strings) and labels
    ``y``, holding out ``val_fraction`` of them for early stopping and the diagnosis; the
    run folder (``run_``: a :class:`goodfit.Run`, with its ``diagnosis`` and report) is
    ``out_dir`` or a temporary folder removed with the estimator. ``auto=True`` runs the
    search within ``budget_minutes``. ``settings`` passes any other ``goodfit train``
    setting by name (``{"class_weight": "balanced"}``).

    Works in ``Pipeline``, ``cross_val_score`` and ``GridSearchCV``.
    """

    def __init__(
        self,
        model: Optional[str] = None,
        train_layers: Any = 2,
        epochs: int = 3,
        lr: float = 1e-4,
        head_lr: float = 1e-3,
        batch_size: int = 16,
        max_len: int = 128,
        val_fraction: float = 0.1,
        seed: int = 42,
        auto: bool = False,
        budget_minutes: float = 15,
        out_dir: Optional[str] = None,
        settings: Optional[Dict[str, Any]] = None,
        verbose: bool = False,
    ) -> None:
        self.model = model
        self.train_layers = train_layers
        self.epochs = epochs
        self.lr = lr
        self.head_lr = head_lr
        self.batch_size = batch_size
        self.max_len = max_len
        self.val_fraction = val_fraction
        self.seed = seed
        self.auto = auto
        self.budget_minutes = budget_minutes
        self.out_dir = out_dir
        self.settings = settings
        self.verbose = verbose

    def fit(self, X: Any, y: Any) -> "FineTunedClassifier":
        """Fine-tunes on texts ``X`` and labels ``y``; returns ``self``."""
        if self.model is None:
            raise InputError("FineTunedClassifier: no model: pass model='path/to/folder'")
        texts = _texts(X, "fit")
        labels = np.asarray(y)
        if labels.ndim != 1 or len(labels) != len(texts):
            raise InputError(
                f"fit: X has {len(texts)} texts but y has shape {labels.shape}"
            )
        if len(texts) == 0:
            raise InputError("fit: no rows: X and y are empty")
        if pd.isna(pd.Series(labels, dtype=object)).any():
            row = int(np.flatnonzero(pd.isna(pd.Series(labels, dtype=object)))[0])
            raise InputError(f"fit: y[{row}] is missing (NaN)")
        check_classification_targets(labels)
        self.classes_ = np.unique(labels)
        if len(self.classes_) < 2:
            raise InputError(f"fit: y has one class ({self.classes_[0]!r}); a classifier needs two")
        previous = getattr(self, "_finalizer", None)
        if previous is not None:
            previous()  # a refit replaces the last fit's temporary run folder
        if self.out_dir is not None:
            out = Path(self.out_dir)
        else:
            folder = tempfile.mkdtemp(prefix="goodfit-estimator-")
            self._finalizer = weakref.finalize(self, shutil.rmtree, folder, True)
            out = Path(folder) / "run"
        frame = pd.DataFrame({"text": texts, "label": labels})
        settings = dict(self.settings or {})
        settings.update(
            train_layers=self.train_layers,
            epochs=self.epochs,
            lr=self.lr,
            head_lr=self.head_lr,
            batch_size=self.batch_size,
            max_len=self.max_len,
            val_fraction=self.val_fraction,
            seed=self.seed,
        )
        self.run_: Run = train(
            model=self.model,
            train=frame,
            out=out,
            auto=self.auto,
            budget_minutes=self.budget_minutes,
            overwrite=self.out_dir is not None,
            verbose=self.verbose,
            **settings,
        )
        # The model's label order (as text) → this estimator's classes_ order.
        names = [str(c) for c in self.classes_]
        self._order = [names.index(str(label)) for label in self.run_.classes]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self, "run_")
        proba = self.run_.predict_proba(_texts(X, "predict_proba"))
        out = np.zeros((proba.shape[0], len(self.classes_)))
        out[:, self._order] = proba
        return out

    def predict(self, X: Any) -> np.ndarray:
        """Predicted classes (by the run's decision rule when it saved one)."""
        check_is_fitted(self, "run_")
        texts = _texts(X, "predict")
        predicted = self.run_.predict(texts)["pred"].tolist()
        names = {str(c): c for c in self.classes_}
        return np.asarray([names[str(p)] for p in predicted], dtype=self.classes_.dtype)

    def __sklearn_tags__(self):  # scikit-learn >= 1.6
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    def _more_tags(self) -> Dict[str, Any]:  # scikit-learn < 1.6
        return {"X_types": ["string"], "requires_fit": True}

