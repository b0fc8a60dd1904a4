"""The baseline `goodfit train --auto` must beat: frozen sentence embeddings + logistic regression.

Embeds every text with the frozen encoder (mean pooling over real tokens, then L2
normalisation, as sentence-transformers' all-MiniLM-L6-v2 does; inputs cut to 128 tokens),
fits scikit-learn's LogisticRegression on the training file (C chosen from 10 values by
5-fold cross-validation on macro-F1, so the baseline is tuned too), and scores the test file once.
With --balanced the classes are weighted inversely to their frequency.

Usage: python frozen_lr.py MODEL_DIR TRAIN.jsonl TEST.jsonl [--balanced]
Prints one JSON object: test macro-F1, accuracy and minority recall, and the seconds taken.
"""
import json
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, recall_score
from sklearn.model_selection import StratifiedKFold
from transformers import AutoModel, AutoTokenizer


def read(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    return [r["text"] for r in rows], [r["label"] for r in rows]


@torch.no_grad()
def embed(model, tokenizer, texts, batch=64):
    out = []
    for i in range(0, len(texts), batch):
        enc = tokenizer(texts[i : i + batch], padding=True, truncation=True, max_length=128,
                        return_tensors="pt")
        states = model(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).float()
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    return np.concatenate(out)


def main():
    warnings.simplefilter("ignore", FutureWarning)
    model_dir, train_path, test_path = sys.argv[1:4]
    balanced = "--balanced" in sys.argv[4:]
    torch.set_num_threads(2)
    start = time.time()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    train_texts, train_labels = read(train_path)
    test_texts, test_labels = read(test_path)
    x_train, x_test = embed(model, tokenizer, train_texts), embed(model, tokenizer, test_texts)
    # C by 5-fold cross-validation on macro-F1, by hand: scikit-learn 1.9.1's scorers
    # (LogisticRegressionCV's and cross_val_score's "f1_macro", make_scorer) fail on these
    # labels with a stray pos_label.
    weight = "balanced" if balanced else None
    y_train = np.array(train_labels)
    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(x_train, y_train))

    def cv_f1(c):
        return np.mean([
            f1_score(y_train[va], LogisticRegression(C=c, max_iter=2000, class_weight=weight)
                     .fit(x_train[tr], y_train[tr]).predict(x_train[va]), average="macro")
            for tr, va in folds
        ])

    grid = np.logspace(-4, 4, 10)
    best_c = float(grid[int(np.argmax([cv_f1(c) for c in grid]))])
    clf = LogisticRegression(C=best_c, max_iter=2000, class_weight=weight).fit(x_train, y_train)
    predicted = list(clf.predict(x_test))
    counts = {c: train_labels.count(c) for c in set(train_labels)}
    minority = min(counts, key=counts.get)
    print(json.dumps({
        "baseline": "frozen embeddings + logistic regression" + (" (balanced)" if balanced else ""),
        "test_f1_macro": f1_score(test_labels, predicted, average="macro"),
        "test_accuracy": accuracy_score(test_labels, predicted),
        "minority": minority,
        "test_minority_recall": recall_score(test_labels, predicted, labels=[minority], average="macro"),
        "C": best_c,
        "seconds": time.time() - start,
    }))


if __name__ == "__main__":
    main()
