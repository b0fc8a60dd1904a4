"""Prints the recipe ablation of benches/auto/recipes.sh: test macro-F1 per data set and
recipe, mean ± standard error over the seeds (the seeds' scores in brackets), the change
against `base` paired by seed (mean ± standard error of the differences), and the mean
seconds of a run.

Usage: python3 recipes_table.py OUT_DIR
"""
import json
import math
import os
import sys

out = sys.argv[1]
RECIPES = ["head", "base", "lpft", "lpft-hl", "reinit", "swa", "rdrop", "gradual", "mixup", "eda", "top3", "top3-llrd", "top3-gradual", "lrfind"]


def score(path):
    try:
        return json.load(open(path))["test"]["f1_macro"]
    except (OSError, KeyError, ValueError):
        return None


def mean_se(xs):
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, float("nan")
    var = sum((x - m) ** 2 for x in xs) / (len(xs) - 1)
    return m, math.sqrt(var / len(xs))


print("| data | recipe | test macro-F1 (mean ± SE) | seeds | vs base (paired) | seconds |")
print("|---|---|---:|---|---:|---:|")
for data in sorted(os.listdir(out)):
    d = os.path.join(out, data)
    if not os.path.isdir(d):
        continue
    seeds = sorted(s for s in os.listdir(d) if os.path.isdir(os.path.join(d, s)))
    for recipe in RECIPES:
        scores = {s: score(os.path.join(d, s, recipe, "metrics.json")) for s in seeds}
        scores = {s: v for s, v in scores.items() if v is not None}
        if not scores:
            continue
        m, se = mean_se(list(scores.values()))
        base = {s: score(os.path.join(d, s, "base", "metrics.json")) for s in scores}
        diffs = [scores[s] - base[s] for s in scores if base[s] is not None]
        vs = ""
        if recipe not in ("base",) and diffs:
            dm, dse = mean_se(diffs)
            vs = f"{dm:+.3f} ± {dse:.3f}" if not math.isnan(dse) else f"{dm:+.3f}"
        secs = []
        for s in scores:
            p = os.path.join(d, s, recipe + ".seconds")
            if os.path.exists(p):
                secs.append(float(open(p).read()))
        sec = f"{sum(secs) / len(secs):.0f}" if secs else ""
        each = ", ".join(f"{v:.3f}" for v in scores.values())
        se_text = f" ± {se:.3f}" if not math.isnan(se) else ""
        print(f"| {data} | {recipe} | {m:.3f}{se_text} | {each} | {vs} | {sec} |")
