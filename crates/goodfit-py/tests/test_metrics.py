"""goodfit.metrics.report equals scikit-learn (and imbalanced-learn's geometric mean)."""

import numpy as np
import pytest
from sklearn import metrics as sk

import goodfit
from goodfit.errors import InputError


def draw(seed, n, k):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, n)
    noisy = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, k, n))
    logits = rng.normal(size=(n, k)) + 2.0 * np.eye(k)[noisy]
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return y_true, proba.argmax(1), proba


@pytest.mark.parametrize("seed,k", [(0, 2), (1, 3), (2, 5)])
def test_report_equals_scikit_learn(seed, k):
    y_true, y_pred, proba = draw(seed, 200, k)
    names = np.array(["neg", "neu", "pos", "x", "y"])[:k]
    r = goodfit.metrics.report(names[y_true], names[y_pred], proba=proba)
    assert r["labels"] == sorted(names.tolist())
    order = np.argsort(names)  # report's classes are sorted: reorder proba to match
    yt, yp = names[y_true], names[y_pred]
    assert r["accuracy"] == pytest.approx(sk.accuracy_score(yt, yp), abs=1e-12)
    assert r["balanced_accuracy"] == pytest.approx(sk.balanced_accuracy_score(yt, yp), abs=1e-12)
    for average in ("macro", "weighted", "micro"):
        assert r[f"f1_{average}"] == pytest.approx(
            sk.f1_score(yt, yp, average=average, zero_division=0), abs=1e-12
        )
        assert r[f"precision_{average}"] == pytest.approx(
            sk.precision_score(yt, yp, average=average, zero_division=0), abs=1e-12
        )
    assert r["mcc"] == pytest.approx(sk.matthews_corrcoef(yt, yp), abs=1e-12)
    assert r["cohen_kappa"] == pytest.approx(sk.cohen_kappa_score(yt, yp), abs=1e-12)
    assert r["confusion_matrix"] == sk.confusion_matrix(yt, yp, labels=sorted(names)).tolist()
    p = proba[:, order]
    assert r["log_loss"] == pytest.approx(sk.log_loss(yt, p, labels=sorted(names)), abs=1e-9)
    if k == 2:
        positive = yt == sorted(names)[1]
        assert r["roc_auc"] == pytest.approx(sk.roc_auc_score(positive, p[:, 1]), abs=1e-12)
    else:
        assert r["roc_auc"] == pytest.approx(
            sk.roc_auc_score(yt, p, multi_class="ovr", average="macro", labels=sorted(names)),
            abs=1e-9,
        )


def test_report_refuses_bad_input():
    with pytest.raises(ValueError, match="shape"):
        goodfit.metrics.report([0, 1], [0])
    with pytest.raises(InputError, match=r"y_pred\[1\] is 7"):
        goodfit.metrics.report([0, 1], [0, 7], labels=[0, 1])
    with pytest.raises(InputError, match="proba has shape"):
        goodfit.metrics.report([0, 1], [0, 1], proba=[[1.0, 0.0]])
