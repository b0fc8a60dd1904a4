"""Prints what training on each file of benches/audit/finetuned.sh scored: test macro-F1
per kind of training file (clean, noisy, cleaned or relabelled with the flags of weight W),
mean ± standard error over every noise seed and training seed run, and the change against
the noisy file paired by noise seed and training seed (the clean file, which has no noise
seed, is paired with each noisy file of the same training seed).

Runs at training seed 42 are OUT/train-NAME, other seeds OUT/seeds/NAME-tSEED, where NAME
is clean, noisy10-sN, cleaned-ftW-sN or relabelled-ftW-sN.

Usage: python3 benches/audit/train_table.py OUT
"""
import json
import math
import os
import re
import sys


def runs(out):
    """(kind, noise seed or None, training seed) -> test macro-F1."""
    found = {}
    candidates = [(name[len("train-"):], "42", os.path.join(out, name)) for name in os.listdir(out) if name.startswith("train-")]
    seeds = os.path.join(out, "seeds")
    if os.path.isdir(seeds):
        for name in os.listdir(seeds):
            m = re.fullmatch(r"(.+)-t(\d+)", name)
            if m:
                candidates.append((m.group(1), m.group(2), os.path.join(seeds, name)))
    for name, train_seed, path in candidates:
        metrics = os.path.join(path, "metrics.json")
        if not os.path.isfile(metrics):
            continue
        m = re.fullmatch(r"(.+)-s(\d+)", name)
        kind, noise_seed = (m.group(1), m.group(2)) if m else (name, None)
        with open(metrics) as f:
            found[(kind, noise_seed, train_seed)] = json.load(f)["test"]["f1_macro"]
    return found


def mean_se(xs, signed=False):
    """`mean ± SE` of xs (the mean alone for one value), signed when `signed`."""
    m = sum(xs) / len(xs)
    text = f"{m:+.3f}" if signed else f"{m:.3f}"
    if len(xs) < 2:
        return text
    se = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1) / len(xs))
    return f"{text} ± {se:.3f}"


def main():
    found = runs(sys.argv[1])
    noisy = {(n, t): v for (k, n, t), v in found.items() if k == "noisy10"}
    order = ["clean", "noisy10"] + sorted({k for k, _, _ in found} - {"clean", "noisy10"})
    print("| training file | runs | test macro-F1 (mean ± SE) | against the noisy file (paired) |")
    print("|---|---:|---:|---:|")
    for kind in order:
        scores = {(n, t): v for (k, n, t), v in found.items() if k == kind}
        if not scores:
            continue
        diffs = []
        for (n, t), v in scores.items():
            diffs += [v - noisy[(nn, tt)] for (nn, tt) in noisy if tt == t and (n is None or nn == n)]
        paired = ""
        if kind != "noisy10" and diffs:
            paired = f"{mean_se(diffs, signed=True)} ({len(diffs)} pairs)"
        print(f"| {kind} | {len(scores)} | {mean_se(list(scores.values()))} | {paired} |")


if __name__ == "__main__":
    main()
