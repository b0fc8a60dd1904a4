#!/usr/bin/env python3
"""Writes examples/fine_foods/predictions-tfidf-logreg.csv: a real baseline's predictions.

TF-IDF (word 1-2 grams) + logistic regression from scikit-learn, fitted on the training
split and applied to the test split. Used by the README's demo of `goodfit evaluate`.
Run from the repository root: python3 scripts/example-predictions.py (needs scikit-learn).
"""
import csv
import json

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

def load(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    return [r["text"] for r in rows], [r["label"] for r in rows]

train_x, train_y = load("examples/fine_foods/train.jsonl")
test_x, test_y = load("examples/fine_foods/test.jsonl")
model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2), LogisticRegression(max_iter=1000))
model.fit(train_x, train_y)
proba = model.predict_proba(test_x)
classes = list(model.classes_)
with open("examples/fine_foods/predictions-tfidf-logreg.csv", "w", newline="", encoding="utf-8") as f:
    out = csv.writer(f)
    out.writerow(["label", "pred"] + [f"prob_{c}" for c in classes])
    for y, p in zip(test_y, proba):
        out.writerow([y, classes[p.argmax()]] + [f"{v:.6f}" for v in p])
