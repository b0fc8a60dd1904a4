"""Flips a share of a JSONL file's training labels at random (seeded) and records which.

Each chosen row gets a different label drawn uniformly from the other classes. Writes
OUT.jsonl (same rows, same order, the `label` field changed where flipped) and
OUT.flipped.json (the flipped rows' 1-based lines, as `goodfit inspect` and `goodfit audit`
number them, with their true and new labels).

Usage: python3 benches/audit/make_noisy.py TRAIN.jsonl OUT.jsonl [SHARE=0.1] [SEED=42]
"""
import json
import random
import sys


def main():
    source, out = sys.argv[1], sys.argv[2]
    share = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 42
    rows = [json.loads(line) for line in open(source, encoding="utf-8")]
    classes = sorted({r["label"] for r in rows})
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(rows)), round(share * len(rows))))
    flipped = []
    for i in chosen:
        true = rows[i]["label"]
        new = rng.choice([c for c in classes if c != true])
        rows[i]["label"] = new
        flipped.append({"line": i + 1, "true": true, "given": new})
    with open(out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    stem = out[: -len(".jsonl")] if out.endswith(".jsonl") else out
    with open(stem + ".flipped.json", "w", encoding="utf-8") as f:
        json.dump({"source": source, "share": share, "seed": seed, "flipped": flipped}, f, indent=1)
    print(f"{out}: {len(flipped)} of {len(rows)} labels flipped (seed {seed})")


if __name__ == "__main__":
    main()
