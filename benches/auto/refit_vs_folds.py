"""After k-fold cross-validation picks C for a linear head on frozen embeddings: refit on all
training rows, or average the class probabilities of the k fold models?

For each data set the texts are embedded exactly as `frozen_lr.py` does (its `embed` and `read`
are imported; embeddings cached per file in /tmp/emb_cache/). For seeds 0, 1, 2 and for plain and
class_weight='balanced' LogisticRegression (max_iter 2000), C is chosen from np.logspace(-2, 4, 7)
by mean out-of-fold macro-F1 over StratifiedKFold(5, shuffle=True, random_state=seed). Then test
macro-F1 of (a) a refit on all training rows with that C and (b) the argmax of the mean of the
5 fold models' predict_proba (the fold models trained with that C during the search).

Usage (from the repository root): python benches/auto/refit_vs_folds.py
Prints a markdown table and writes it to /tmp/refit_vs_folds.md.
"""
import os

# One BLAS/OpenMP thread: leave a core free for other work.
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import hashlib
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from transformers import AutoModel, AutoTokenizer

sys.path.insert(0, "benches/auto")
import frozen_lr  # noqa: E402

MODEL_DIR = "models/all-MiniLM-L6-v2"
CACHE = "/tmp/emb_cache"
SETS = [
    ("tail5", "benches/auto/data/tail5_train.jsonl", "benches/auto/data/tail5_test.jsonl"),
    ("ff300", "/tmp/sets/ff300_train.jsonl", "examples/fine_foods/test.jsonl"),
    ("1to20", "runs/bench12/train_1to20.jsonl", "examples/fine_foods/test.jsonl"),
]
SEEDS = [0, 1, 2]
GRID = np.logspace(-2, 4, 7)

_encoder = None


def encoder():
    global _encoder
    if _encoder is None:
        _encoder = (AutoTokenizer.from_pretrained(MODEL_DIR),
                    AutoModel.from_pretrained(MODEL_DIR).eval())
    return _encoder


def embedded(path):
    """Embeddings and labels of one JSONL file, cached by the file's content hash."""
    texts, labels = frozen_lr.read(path)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()[:16]
    name = os.path.basename(path).replace(".jsonl", "")
    cache = os.path.join(CACHE, f"{name}-{digest}.npy")
    if os.path.exists(cache):
        x = np.load(cache)
    else:
        tokenizer, model = encoder()
        start = time.time()
        x = frozen_lr.embed(model, tokenizer, texts)
        os.makedirs(CACHE, exist_ok=True)
        np.save(cache, x)
        print(f"embedded {path}: {len(texts)} rows in {time.time() - start:.0f}s", file=sys.stderr)
    assert len(x) == len(labels)
    return x, np.array(labels)


def fold_average_proba(models, x, classes):
    """Mean predict_proba of the fold models, aligned to `classes` (a fold may lack a class)."""
    total = np.zeros((len(x), len(classes)))
    for m in models:
        idx = np.searchsorted(classes, m.classes_)
        total[:, idx] += m.predict_proba(x)
    return total / len(models)


def one_run(x_tr, y_tr, x_te, y_te, seed, weight):
    classes = np.unique(y_tr)
    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(x_tr, y_tr))
    best = None  # (cv_f1, C, fold models)
    for c in GRID:
        models, scores = [], []
        for tr, va in folds:
            m = LogisticRegression(C=c, max_iter=2000, class_weight=weight).fit(x_tr[tr], y_tr[tr])
            scores.append(f1_score(y_tr[va], m.predict(x_tr[va]), average="macro"))
            models.append(m)
        score = float(np.mean(scores))
        if best is None or score > best[0]:  # ties: the smaller C, as np.argmax would
            best = (score, float(c), models)
    cv, c, models = best
    refit = LogisticRegression(C=c, max_iter=2000, class_weight=weight).fit(x_tr, y_tr)
    f1_refit = f1_score(y_te, refit.predict(x_te), average="macro")
    proba = fold_average_proba(models, x_te, classes)
    f1_avg = f1_score(y_te, classes[proba.argmax(1)], average="macro")
    return c, cv, f1_refit, f1_avg


def main():
    warnings.simplefilter("ignore", FutureWarning)
    torch.set_num_threads(1)
    rows = []
    for name, train_path, test_path in SETS:
        x_tr, y_tr = embedded(train_path)
        x_te, y_te = embedded(test_path)
        for label, weight in (("plain", None), ("balanced", "balanced")):
            refits, avgs = [], []
            for seed in SEEDS:
                start = time.time()
                c, cv, a, b = one_run(x_tr, y_tr, x_te, y_te, seed, weight)
                refits.append(a)
                avgs.append(b)
                print(f"{name} {label} seed {seed}: C={c:g} cv={cv:.4f} refit={a:.4f} "
                      f"foldavg={b:.4f} ({time.time() - start:.0f}s)", file=sys.stderr, flush=True)
            refits, avgs = np.array(refits), np.array(avgs)
            diff = refits - avgs
            rows.append((name, label, refits, avgs, diff))
    sd = lambda v: v.std(ddof=1)  # noqa: E731
    lines = [
        "| set | weights | refit (mean ± sd) | fold average (mean ± sd) | refit − fold avg (mean ± se) |",
        "|---|---|---|---|---|",
    ]
    for name, label, r, a, d in rows:
        lines.append(f"| {name} | {label} | {r.mean():.4f} ± {sd(r):.4f} | {a.mean():.4f} ± {sd(a):.4f} "
                     f"| {d.mean():+.4f} ± {sd(d) / np.sqrt(len(d)):.4f} |")
    lines.append("")
    lines.append(f"Test macro-F1; seeds {SEEDS} (StratifiedKFold(5) shuffle seed); "
                 f"C from np.logspace(-2, 4, 7) by mean out-of-fold macro-F1; sd over seeds (ddof=1), "
                 f"se = sd of paired differences / sqrt({len(SEEDS)}).")
    table = "\n".join(lines)
    print(table)
    with open("/tmp/refit_vs_folds.md", "w") as f:
        f.write(table + "\n")


if __name__ == "__main__":
    main()
