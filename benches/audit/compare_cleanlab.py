"""How well `goodfit audit` finds flipped labels, against cleanlab's `find_label_issues`
on 5-fold out-of-fold probabilities from scikit-learn's logistic regression over the same
frozen embeddings (all-MiniLM-L6-v2, mean-pooled and normalised, 128 tokens).

Reads the noisy file and its `.flipped.json` (make_noisy.py) and a `goodfit audit --out`
folder's audit.json; prints precision, recall and F1 of the flagged rows against the
flipped ones for both, as JSON lines and a Markdown table. The logistic regression's C is
scikit-learn's default (1.0) and, separately, chosen by 5-fold cross-validation on
log-loss (a tuned reference).

Usage: .venv-bench/bin/python benches/audit/compare_cleanlab.py MODEL_DIR NOISY.jsonl AUDIT_DIR [SEED=42]
"""
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch
from cleanlab.filter import find_label_issues
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from transformers import AutoModel, AutoTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "auto"))
from frozen_lr import embed  # noqa: E402  the anchors' embedding, the same vectors


def scores(flagged, truth):
    flagged, truth = set(flagged), set(truth)
    hit = len(flagged & truth)
    p = hit / len(flagged) if flagged else 0.0
    r = hit / len(truth) if truth else 0.0
    return {"flagged": len(flagged), "found": hit, "precision": p, "recall": r,
            "f1": 2 * p * r / (p + r) if p + r else 0.0}


def main():
    warnings.simplefilter("ignore")
    model_dir, noisy, audit_dir = sys.argv[1:4]
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 42
    torch.set_num_threads(2)
    rows = [json.loads(line) for line in open(noisy, encoding="utf-8")]
    stem = noisy[: -len(".jsonl")]
    truth = [f["line"] for f in json.load(open(stem + ".flipped.json"))["flipped"]]
    lines = np.arange(1, len(rows) + 1)
    texts = [r["text"] for r in rows]
    keep = [i for i, t in enumerate(texts) if t.strip()]  # goodfit skips empty texts
    classes = sorted({r["label"] for r in rows})
    y = np.array([classes.index(rows[i]["label"]) for i in keep])
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    x = embed(model, tokenizer, [texts[i] for i in keep])
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    results = []
    for name, c in [("cleanlab + logistic regression (C=1)", 1.0), ("cleanlab + logistic regression (C tuned)", None)]:
        if c is None:
            grid = np.logspace(-2, 3, 11)
            losses = []
            for g in grid:
                p = cross_val_predict(LogisticRegression(C=g, max_iter=3000), x, y, cv=folds, method="predict_proba")
                losses.append(-np.mean(np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None))))
            c = float(grid[int(np.argmin(losses))])
        proba = cross_val_predict(LogisticRegression(C=c, max_iter=3000), x, y, cv=folds, method="predict_proba")
        issues = find_label_issues(y, proba, return_indices_ranked_by="self_confidence")
        flagged = [int(lines[keep[i]]) for i in issues]
        results.append({"method": name, "C": c, **scores(flagged, truth)})
    audit = json.load(open(f"{audit_dir}/audit.json"))
    flagged = [f["line"] for f in audit["findings"] if f["kind"] == "label" and f["file"] == "train"]
    results.append({"method": "goodfit audit", **scores(flagged, truth)})
    for r in results:
        print(json.dumps(r))
    print("\n| method | flagged | flipped found | precision | recall | F1 |\n|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['method']} | {r['flagged']} | {r['found']} of {len(truth)} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} |")


if __name__ == "__main__":
    main()
