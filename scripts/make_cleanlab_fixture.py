"""Writes crates/goodfit/tests/fixtures/cleanlab_reference.json: cleanlab 2.x's
`find_label_issues` (defaults: filter_by='prune_by_noise_rate', ranked by
self-confidence) and its confident joint on fixed probabilities and labels, for the
exact-match test of goodfit's confident learning (crates/goodfit/tests/cleanlab_reference.rs).

Probabilities are stored as the bit patterns of their float64 values, so that both sides
read the very same numbers.

Usage: .venv-bench/bin/python scripts/make_cleanlab_fixture.py   (cleanlab, numpy)
"""
import json
import struct
import warnings
from pathlib import Path

import cleanlab
import numpy as np
from cleanlab.count import compute_confident_joint
from cleanlab.filter import find_label_issues

OUT = Path(__file__).resolve().parent.parent / "crates/goodfit/tests/fixtures/cleanlab_reference.json"


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def rounding_has_ties(labels, proba, k):
    """Whether calibrating the confident joint rounds a row with equal remainders: numpy 2
    orders those with an unstable SIMD sort on AVX2/AVX-512 processors, so cleanlab's own
    answer then depends on the machine. Such draws are skipped."""
    raw = compute_confident_joint(labels, proba, calibrate=False)
    counts = np.bincount(labels, minlength=k)
    cal = (raw.T / np.clip(raw.sum(axis=1), 1e-100, None) * counts).T
    cal = cal / np.sum(cal) * sum(counts)
    for row in cal:
        rest = row - row.round()
        if abs(row.round().sum() - row.sum().round()) > 1e-6 and len(set(rest.tolist())) < len(rest):
            return True
    return False


def case(name, n, k, noise, seed, sharpness=1.0, drop_class=None, singleton=None):
    while True:
        found = draw(name, n, k, noise, seed, sharpness, drop_class, singleton)
        if found is not None:
            return found
        seed += 1000


def draw(name, n, k, noise, seed, sharpness, drop_class, singleton):
    rng = np.random.default_rng(seed)
    true = rng.integers(0, k, n)
    if drop_class is not None:
        true[true == drop_class] = (drop_class + 1) % k
    logits = rng.normal(0, 1, (n, k)) * sharpness
    logits[np.arange(n), true] += 2.0 * sharpness
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    labels = true.copy()
    flip = rng.random(n) < noise
    labels[flip] = (labels[flip] + rng.integers(1, k, flip.sum())) % k
    if drop_class is not None:
        labels[labels == drop_class] = (drop_class + 1) % k
    if singleton is not None:
        labels[labels == singleton] = (singleton + 1) % k
        labels[0] = singleton
    if rounding_has_ties(labels, proba, k):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ranked = find_label_issues(labels, proba, return_indices_ranked_by="self_confidence", n_jobs=1)
        mask = find_label_issues(labels, proba, n_jobs=1)
        joint = compute_confident_joint(labels, proba)
    assert sorted(ranked.tolist()) == np.flatnonzero(mask).tolist()
    return {
        "name": name,
        "seed": seed,
        "classes": k,
        "labels": labels.tolist(),
        "proba_bits": [[bits(x) for x in row] for row in proba],
        "confident_joint": joint.tolist(),
        "issues_ranked": ranked.tolist(),
    }


cases = [
    case("binary, 10% noise", 200, 2, 0.10, 1),
    case("three classes, 20% noise", 300, 3, 0.20, 2),
    case("five classes, 15% noise, soft", 500, 5, 0.15, 3, sharpness=0.6),
    case("four classes, one never given", 120, 4, 0.10, 4, drop_class=3),
    case("three classes, one with a single row", 90, 3, 0.15, 5, singleton=2),
    case("six classes, clean", 240, 6, 0.0, 6),
    case("ten classes, 30% noise", 800, 10, 0.30, 7, sharpness=0.8),
]
OUT.write_text(json.dumps({"cleanlab": cleanlab.__version__, "numpy": np.__version__, "cases": cases}) + "\n")
print(OUT, [len(c["issues_ranked"]) for c in cases])
