"""The other anchor `goodfit train --auto` must beat: a plain Hugging Face fine-tune.

What a user of transformers would run first: `AutoModelForSequenceClassification` on the
model folder (a new linear head on the pooler), every layer trained, Trainer's defaults
(AdamW at 5e-5, no weight decay, a linear decay to 0 without warm-up), 3 epochs, batch 16,
inputs cut to 128 tokens, no validation split and no early stopping; the last epoch's
model scores the test file once. With --class-weights the cross-entropy weighs each class
by n / (k · count), scikit-learn's "balanced" weights.

Usage: python hf_finetune.py MODEL_DIR TRAIN.jsonl TEST.jsonl [--class-weights] [--seed N]
Prints one JSON object: test macro-F1, accuracy, the seed and the seconds taken.
"""
import json
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup


def read(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    return [r["text"] for r in rows], [str(r["label"]) for r in rows]


def main():
    warnings.simplefilter("ignore")
    args = sys.argv[1:]
    model_dir, train_path, test_path = args[:3]
    weighted = "--class-weights" in args
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 42
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 2
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    start = time.time()
    train_texts, train_labels = read(train_path)
    test_texts, test_labels = read(test_path)
    labels = sorted(set(train_labels))
    index = {l: i for i, l in enumerate(labels)}
    y = np.array([index[l] for l in train_labels])
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, num_labels=len(labels))
    counts = np.bincount(y, minlength=len(labels))
    weight = torch.tensor(len(y) / (len(labels) * counts), dtype=torch.float32) if weighted else None
    loss_fn = torch.nn.CrossEntropyLoss(weight=weight)
    epochs, batch = 3, 16
    steps = epochs * ((len(y) + batch - 1) // batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5, weight_decay=0.0)
    schedule = get_linear_schedule_with_warmup(optimizer, 0, steps)
    for _ in range(epochs):
        model.train()
        order = rng.permutation(len(y))
        for i in range(0, len(order), batch):
            rows = order[i : i + batch]
            enc = tokenizer([train_texts[r] for r in rows], padding=True, truncation=True,
                            max_length=128, return_tensors="pt")
            loss = loss_fn(model(**enc).logits, torch.tensor(y[rows]))
            loss.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
    model.eval()
    predicted = []
    with torch.no_grad():
        for i in range(0, len(test_texts), 64):
            enc = tokenizer(test_texts[i : i + 64], padding=True, truncation=True, max_length=128,
                            return_tensors="pt")
            predicted.extend(model(**enc).logits.argmax(-1).tolist())
    predicted = [labels[p] for p in predicted]
    print(json.dumps({
        "test_macro_f1": round(f1_score(test_labels, predicted, average="macro"), 4),
        "test_accuracy": round(accuracy_score(test_labels, predicted), 4),
        "class_weights": weighted,
        "seed": seed,
        "seconds": round(time.time() - start, 1),
    }))


if __name__ == "__main__":
    main()
