"""Writes the small-data sets for benchmarking `goodfit train --auto` (see data/SOURCE.md).

  ff300_train.jsonl   examples/fine_foods/train.jsonl cut to 300 rows, stratified (the
                      full file's class shares, 195 great / 105 other), seed 42, rows in
                      file order. Its test file is examples/fine_foods/test.jsonl as it is.
  tail5_train.jsonl   a long-tailed 5-class set from Debian's fortune cookies
  tail5_test.jsonl    (/usr/share/games/fortunes, packages `fortunes` and `fortunes-min`):
                      training 200/100/50/25/12 for computers/politics/law/food/medicine,
                      test the same number per class (60 where the data allows, at least 30),
                      disjoint from training, seed 42.

Fortunes are split on lines holding only '%', stripped of overstrike (a backspace erases
the character before it) and other control characters, whitespace-normalised to single
spaces, and dropped when shorter than 20 characters.
A text that occurs in more than one of the five categories is dropped; repeats within a
category are kept once, so no text appears twice across the two tail5 files.

Usage: python3 make_sets.py OUT_DIR [--only ff300|tail5]     (default: both)
Standard library only; the output is the same on every run.
"""
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

SEED = 42
ROOT = Path(__file__).resolve().parents[2]
FINE_FOODS_TRAIN = ROOT / "examples" / "fine_foods" / "train.jsonl"
FF_SIZE = 300
FORTUNES = Path("/usr/share/games/fortunes")
# Largest class first; the category with the most fortunes gets the most training rows.
TAIL5 = [("computers", 200), ("politics", 100), ("law", 50), ("food", 25), ("medicine", 12)]
TEST_PER_CLASS, MIN_TEST_PER_CLASS = 60, 30
MIN_CHARS = 20


def write(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"text": r["text"], "label": r["label"]}, ensure_ascii=False) + "\n")
    counts = Counter(r["label"] for r in rows)
    shown = ", ".join(f"{label} {n}" for label, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    print(f"{path}: {len(rows)} rows: {shown}")


def make_ff300(out):
    if not FINE_FOODS_TRAIN.is_file():
        sys.exit(f"make_sets.py: {FINE_FOODS_TRAIN} is missing")
    rows = [json.loads(line) for line in open(FINE_FOODS_TRAIN, encoding="utf-8") if line.strip()]
    by_label = {}
    for i, r in enumerate(rows):
        by_label.setdefault(r["label"], []).append(i)
    labels = sorted(by_label)
    # Largest-remainder rounding of each class's share of FF_SIZE (ties by label name).
    exact = {c: FF_SIZE * len(by_label[c]) / len(rows) for c in labels}
    quota = {c: int(exact[c]) for c in labels}
    for c in sorted(labels, key=lambda c: (-(exact[c] - quota[c]), c))[: FF_SIZE - sum(quota.values())]:
        quota[c] += 1
    rng = random.Random(SEED)
    keep = set()
    for c in labels:
        keep.update(rng.sample(by_label[c], quota[c]))
    write(out / "ff300_train.jsonl", [rows[i] for i in sorted(keep)])


def read_fortunes(category):
    path = FORTUNES / category
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    out = []
    for chunk in re.split(r"^%[ \t]*$", text, flags=re.M):
        # Overstrike ('X\bX' bold, '___\b\b\bword' underline): a backspace erases the
        # character before it; other control characters (a bell) go.
        while re.search(r"[^\x08]\x08", chunk):
            chunk = re.sub(r"[^\x08]\x08", "", chunk)
        chunk = re.sub(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", "", chunk)
        chunk = " ".join(chunk.split())
        if len(chunk) >= MIN_CHARS:
            out.append(chunk)
    return out


def make_tail5(out):
    missing = [c for c, _ in TAIL5 if not (FORTUNES / c).is_file()]
    if missing:
        sys.exit(
            f"make_sets.py: fortune files missing under {FORTUNES}: {', '.join(missing)}.\n"
            "Install Debian's fortune data first: apt-get update && apt-get install -y fortunes fortunes-min"
        )
    texts = {c: sorted(set(read_fortunes(c))) for c, _ in TAIL5}
    seen = Counter(t for c in texts for t in texts[c])
    texts = {c: [t for t in ts if seen[t] == 1] for c, ts in texts.items()}
    test_n = min(TEST_PER_CLASS, min(len(texts[c]) - n for c, n in TAIL5))
    if test_n < MIN_TEST_PER_CLASS:
        sys.exit(f"make_sets.py: too few fortunes for {MIN_TEST_PER_CLASS} test rows per class: "
                 + ", ".join(f"{c} {len(texts[c])}" for c, _ in TAIL5))
    rng = random.Random(SEED)
    train, test = [], []
    for c, n in TAIL5:
        pool = texts[c][:]
        rng.shuffle(pool)
        train += [{"text": t, "label": c} for t in pool[:n]]
        test += [{"text": t, "label": c} for t in pool[n : n + test_n]]
    rng.shuffle(train)
    rng.shuffle(test)
    write(out / "tail5_train.jsonl", train)
    write(out / "tail5_test.jsonl", test)


def main():
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        i = args.index("--only")
        if i + 1 >= len(args) or args[i + 1] not in ("ff300", "tail5"):
            sys.exit("make_sets.py: --only takes ff300 or tail5")
        only = args[i + 1]
        del args[i : i + 2]
    if len(args) != 1 or args[0].startswith("-"):
        sys.exit("usage: python3 make_sets.py OUT_DIR [--only ff300|tail5]")
    out = Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    if only in (None, "ff300"):
        make_ff300(out)
    if only in (None, "tail5"):
        make_tail5(out)


if __name__ == "__main__":
    main()
