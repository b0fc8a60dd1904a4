"""Writes fine_foods' training file with its minority class cut to 1:20.

Keeps every 'great' review (2,600) and the first 130 'other' reviews in file order
(2,600 / 20 = 130); the test file is left as it is (658 great / 342 other).
Usage: python3 make_data.py SOURCE.jsonl OUT.jsonl
"""
import json
import sys

source, out = sys.argv[1], sys.argv[2]
rows = [json.loads(line) for line in open(source, encoding="utf-8")]
majority = sum(r["label"] == "great" for r in rows)
keep_minority = majority // 20
kept, minority = [], 0
for r in rows:
    if r["label"] == "other":
        if minority == keep_minority:
            continue
        minority += 1
    kept.append(r)
with open(out, "w", encoding="utf-8") as f:
    for r in kept:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(f"{out}: {majority} great, {minority} other ({majority / minority:.0f}:1)")
