"""Prints the table of benches/audit/fixes.sh: test macro-F1 per training file, as mean ±
standard error over noise seeds × training seeds, and paired differences against the
noisy file (same noise seed, same training seed) and against the clean file (same
training seed); then the mean difference against the noisy file per noise seed, and
their mean ± standard error (the runs of one noise seed share its cleaned copy, so the
noise seeds are the independent draws).

Usage: python3 benches/audit/fix_table.py OUT [NOISE_SEED...]   (default: every noise seed in OUT)
"""
import collections
import glob
import json
import os
import statistics
import sys

import train_table  # the sibling script: one `mean ± SE` for both tables

ORDER = ["noisy", "relabel0.9", "drop0.9", "relabel0", "drop0"]


def mean_se(values, signed=False):
    """train_table.py's `mean ± SE`, or – when there are no values."""
    return train_table.mean_se(values, signed) if values else "–"


def main():
    out = sys.argv[1]
    scores = collections.defaultdict(dict)  # (fix, noise seed or None) -> {train seed: F1}
    for path in glob.glob(os.path.join(out, "train-*", "metrics.json")):
        name = os.path.basename(os.path.dirname(path))[len("train-"):]
        stem, t = name.rsplit("-t", 1)
        fix, s = stem.rsplit("-s", 1) if "-s" in stem else (stem, None)
        scores[(fix, s and int(s))][int(t)] = json.load(open(path))["test"]["f1_macro"]
    clean = scores.get(("clean", None), {})
    print(f"clean: {mean_se(list(clean.values()))} (training seeds {sorted(clean)})")
    noise_seeds = [int(a) for a in sys.argv[2:]] or sorted({s for (_, s) in scores if s is not None})
    print(f"noise seeds {noise_seeds}\n")
    print("| training file | runs | test macro-F1 | against the noisy file | against the clean file "
          "| per noise seed, against the noisy file | over noise seeds |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for fix in ORDER:
        values, vs_noisy, vs_clean, per_seed = [], [], [], []  # per_seed: mean differences
        for s in noise_seeds:
            runs = scores.get((fix, s), {})
            noisy = scores.get(("noisy", s), {})
            pairs = [runs[t] - noisy[t] for t in runs if t in noisy]
            values += runs.values()
            vs_clean += [runs[t] - clean[t] for t in runs if t in clean]
            if fix != "noisy":
                vs_noisy += pairs
                if pairs:
                    per_seed.append(statistics.mean(pairs))
        if values:
            print(f"| {fix} | {len(values)} | {mean_se(values)} | {mean_se(vs_noisy, True) if fix != 'noisy' else ''} "
                  f"| {mean_se(vs_clean, True)} | {', '.join(f'{d:+.3f}' for d in per_seed)} "
                  f"| {mean_se(per_seed, True) if len(per_seed) > 1 else ''} |")


if __name__ == "__main__":
    main()
