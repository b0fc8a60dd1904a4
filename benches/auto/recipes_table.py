"""Prints the recipe ablation of benches/auto/recipes.sh from its record: test macro-F1 per
data set, base remedy and recipe, mean ± standard error over the seeds (the seeds' scores
in seed order) and the change against `base` paired by seed (against `top3` as well for the
top-3 variants). Seconds are left out: many runs shared the 2 cores or were paused.

The record (benches/auto/recipes_scores.csv, committed) keeps every measured run, so the
table outlives the run folders and gathers runs made in different sessions. `--add OUT_DIR
--remedy R` first merges the finished runs under OUT_DIR into it (a run already recorded is
replaced by its folder's exact score); recipes.sh does that after every pass.

Usage: python3 recipes_table.py [--add OUT_DIR --remedy REMEDY] [--summary] [RECORD]
"""
import argparse
import csv
import json
import math
import os

RECIPES = ["head", "base", "lpft", "lpft-hl", "reinit", "swa", "rdrop", "gradual", "mixup", "eda", "top3", "top3-llrd", "top3-gradual", "lrfind"]
SETS = ["tail5", "ff300", "1to20", "fine_foods"]
FIELDS = ["data", "remedy", "recipe", "seed", "test_f1_macro", "note"]
NO_RATE = "no rate suggested: the base"
# Student's t 97.5% quantiles for 1 to 10 degrees of freedom (from its table; the benches need
# no scipy for this one lookup), the last standing in for more.
T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228]


def read_record(path):
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as f:
        return {(r["data"], r["remedy"], r["recipe"], r["seed"]): r for r in csv.DictReader(f)}


def write_record(path, record):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, FIELDS, lineterminator="\n")
        w.writeheader()
        for key in sorted(record):
            w.writerow({k: record[key].get(k, "") for k in FIELDS})
    os.replace(tmp, path)


def score(path):
    try:
        with open(path) as f:
            return json.load(f)["test"]["f1_macro"]
    except (OSError, KeyError, ValueError):
        return None


def add_runs(record, out, remedy):
    """Merges OUT/DATA/SEED/RECIPE/metrics.json into the record. An lr-find whose log says it
    suggested no rate records the base's score: the recipe is then the base itself."""
    for data in sorted(os.listdir(out)):
        d = os.path.join(out, data)
        if not os.path.isdir(d):
            continue
        for seed in sorted(os.listdir(d)):
            s = os.path.join(d, seed)
            if not os.path.isdir(s):
                continue
            for recipe in RECIPES:
                value, note = score(os.path.join(s, recipe, "metrics.json")), ""
                log = os.path.join(s, recipe + ".log")
                if recipe == "lrfind" and value is None and os.path.exists(log) and "suggests no rate" in open(log).read():
                    value, note = score(os.path.join(s, "base", "metrics.json")), NO_RATE
                    if value is None:
                        prior = record.get((data, remedy, "base", seed))
                        value = float(prior["test_f1_macro"]) if prior else None
                if value is None:
                    continue
                record[(data, remedy, recipe, seed)] = {
                    "data": data, "remedy": remedy, "recipe": recipe, "seed": seed,
                    "test_f1_macro": f"{value:.4f}", "note": note,
                }


def mean_se(xs):
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, float("nan")
    var = sum((x - m) ** 2 for x in xs) / (len(xs) - 1)
    return m, math.sqrt(var / len(xs))


def pm(m, se, sign=""):
    text = f"{m:{sign}.3f}"
    return text if math.isnan(se) else f"{text} ± {se:.3f}"


def diffs(scores, other):
    """The per-seed differences of two {seed: score} maps, over the seeds both have."""
    return [scores[s] - other[s] for s in sorted(scores) if s in other]


def paired(scores, other):
    d = diffs(scores, other)
    return pm(*mean_se(d), sign="+") if d else ""


def grouped(record):
    """{(data, remedy): {recipe: {seed: row}}}."""
    by = {}
    for r in record.values():
        by.setdefault((r["data"], r["remedy"]), {}).setdefault(r["recipe"], {})[r["seed"]] = r
    return by


def scores(runs):
    """{seed: test macro-F1} of a {seed: row} map."""
    return {s: float(r["test_f1_macro"]) for s, r in runs.items()}


def print_table(record):
    by = grouped(record)
    print("| data | base remedy | recipe | test macro-F1 (mean ± SE) | seeds 42, 43, 44 | vs base (paired) | vs top3 (paired) |")
    print("|---|---|---|---:|---|---:|---:|")
    groups = sorted(by, key=lambda k: (SETS.index(k[0]) if k[0] in SETS else 99, k[1]))
    for data, remedy in groups:
        recipes = by[(data, remedy)]
        scores_of = {rec: scores(recipes.get(rec, {})) for rec in RECIPES}
        for recipe in RECIPES:
            these = scores_of[recipe]
            if not these:
                continue
            each = ", ".join(f"{these[s]:.3f}" if s in these else "–" for s in ("42", "43", "44"))
            vs_base = paired(these, scores_of["base"]) if recipe != "base" else ""
            vs_top3 = paired(these, scores_of["top3"]) if recipe.startswith("top3-") else ""
            name = recipe + (" (= base: no rate)" if all(r.get("note") == NO_RATE for r in recipes[recipe].values()) else "")
            print(f"| {data} | {remedy} | {name} | {pm(*mean_se(list(these.values())))} | {each} | {vs_base} | {vs_top3} |")


def print_summary(record):
    """One row per recipe, one column per data set: the change against the base, paired by
    seed (mean ± SE, seeds run), on the base remedy with the most seeds of each set (the
    logit-adjusted loss on 1:20). Bold where the change's 95% t-interval excludes zero: with
    three seeds that takes 4.3 standard errors, not 2."""
    by = grouped(record)
    columns = []
    for data in SETS:
        remedies = [rem for d, rem in by if d == data]
        if remedies:
            remedy = max(sorted(remedies), key=lambda rem: len(by[(data, rem)].get("base", {})))
            columns.append((data, remedy, by[(data, remedy)]))
    print("| recipe | " + " | ".join(f"{d} ({rem})" for d, rem, _ in columns) + " |")
    print("|---|" + "---:|" * len(columns))
    base = [pm(*mean_se(list(scores(runs["base"]).values()))) if runs.get("base") else "" for _, _, runs in columns]
    print("| base (test macro-F1) | " + " | ".join(base) + " |")
    for recipe in RECIPES:
        if recipe == "base":
            continue
        cells = []
        for _, _, runs in columns:
            d = diffs(scores(runs.get(recipe, {})), scores(runs.get("base", {})))
            if not d:
                cells.append("–")
                continue
            m, se = mean_se(d)
            text = f"{pm(m, se, sign='+')} ({len(d)})"
            clear = len(d) > 1 and se > 0 and abs(m) > T_975[min(len(d) - 1, len(T_975)) - 1] * se
            cells.append(f"**{text}**" if clear else text)
        print(f"| {recipe} | " + " | ".join(cells) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("record", nargs="?", default=os.path.join(os.path.dirname(__file__), "recipes_scores.csv"))
    parser.add_argument("--add", metavar="OUT_DIR")
    parser.add_argument("--summary", action="store_true", help="print each recipe's change against the base, one column per data set, instead of the full table")
    parser.add_argument("--remedy", help="the base's imbalance remedy the runs under OUT_DIR used (recipes.sh's REMEDY)")
    args = parser.parse_args()
    record = read_record(args.record)
    if args.add:
        if not args.remedy:
            parser.error("--add needs --remedy")
        add_runs(record, args.add, args.remedy)
        write_record(args.record, record)
    if args.summary:
        print_summary(record)
    else:
        print_table(record)


main()
