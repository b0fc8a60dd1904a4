"""Prints issue 7's table from benches/auto/run.sh's folder: test macro-F1 (and the minority
class's recall) of frozen embeddings + logistic regression, the default single run, the
search's first trial and its chosen trial, per dataset, with the seconds each took.

Usage: python3 summarise.py OUT_DIR
"""
import json
import os
import sys

out = sys.argv[1]


def load(path):
    return json.load(open(path, encoding="utf-8")) if os.path.exists(path) else None


def seconds(path):
    return float(open(path).read()) if os.path.exists(path) else float("nan")


def minority_recall(metrics, minority):
    return metrics["per_class"][minority]["recall"]


print("| data | method | test macro-F1 | minority recall | minutes |")
print("|---|---|---:|---:|---:|")
for data in ["fine_foods", "1to20"]:
    d = os.path.join(out, data)
    minority = "other"
    for name in ["frozen-lr", "frozen-lr-balanced"]:
        r = load(os.path.join(d, name + ".json"))
        if r:
            print(f"| {data} | {r['baseline']} | {r['test_f1_macro']:.3f} | "
                  f"{r['test_minority_recall']:.3f} | {r['seconds'] / 60:.1f} |")
    m = load(os.path.join(d, "default", "metrics.json"))
    if m:
        print(f"| {data} | goodfit train, defaults | {m['test']['f1_macro']:.3f} | "
              f"{minority_recall(m['test'], minority):.3f} | "
              f"{seconds(os.path.join(d, 'default.seconds')) / 60:.1f} |")
    a = load(os.path.join(d, "auto", "auto.json"))
    if a:
        minutes = seconds(os.path.join(d, "auto.seconds")) / 60
        for role in ["first", "chosen"]:
            t = a[role]
            what = (f"ensemble of trials {', '.join(map(str, t['members']))}"
                    if "members" in t else f"trial {t['index']} {t['name']}")
            print(f"| {data} | --auto, {role} ({what}) | "
                  f"{t['test']['f1_macro']:.3f} | {minority_recall(t['test'], minority):.3f} | "
                  + (f"{minutes:.1f} |" if role == "chosen" else "|"))
        print(f"| {data} | (search: {a['budget']['trials_run']} trials, ended: {a['ended']}) | | | |")
