"""Precision and recall of a `goodfit audit` folder's label findings against the rows
`make_noisy.py` flipped, as compare_cleanlab.py scores them (standard library only).

Usage: python3 benches/audit/flag_scores.py NOISY.jsonl AUDIT_DIR [AUDIT_DIR...]
Prints one JSON line per audit folder.
"""
import json
import sys


def main():
    noisy, audits = sys.argv[1], sys.argv[2:]
    stem = noisy[: -len(".jsonl")]
    truth = {f["line"] for f in json.load(open(stem + ".flipped.json"))["flipped"]}
    for audit_dir in audits:
        audit = json.load(open(f"{audit_dir}/audit.json"))
        flagged = {f["line"] for f in audit["findings"] if f["kind"] == "label" and f["file"] == "train"}
        hit = len(flagged & truth)
        p = hit / len(flagged) if flagged else 0.0
        r = hit / len(truth)
        print(json.dumps({"audit": audit_dir, "probe": audit["probe"]["macro_f1"], "flagged": len(flagged),
                          "found": hit, "precision": round(p, 4), "recall": round(r, 4),
                          "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}))


if __name__ == "__main__":
    main()
