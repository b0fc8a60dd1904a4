"""Prints the imbalance benchmark's table (markdown) from the run folders under OUT.

For each block, every remedy's test macro-F1, minority ('other') recall and balanced
accuracy, with the change against the block's no-remedy run.
Usage: python3 summarise.py OUT
"""
import json
import os
import sys

MINORITY = "other"
out = sys.argv[1]
for block, title in [("head", "Frozen encoder, head only (--train-layers 0 --epochs 40 --head-lr 1e-2 --patience 5 --monitor val_f1_macro)"),
                     ("finetune", "Fine-tuning the top 2 layers (the defaults: --train-layers 2 --epochs 3, early stopping on val_loss)")]:
    folder = os.path.join(out, block)
    if not os.path.isdir(folder):
        continue
    rows = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name, "metrics.json")
        if not os.path.isfile(path):
            continue
        m = json.load(open(path))
        test = m["test"]
        flags_path = os.path.join(folder, name, "flags.txt")
        flags = open(flags_path).read().strip() if os.path.isfile(flags_path) else ""
        # Wall time of the whole run: config.toml is written first, flags.txt after the end.
        run_dir = os.path.join(folder, name)
        try:
            wall = os.path.getmtime(flags_path) - os.path.getmtime(os.path.join(run_dir, "config.toml"))
        except OSError:
            wall = None
        rows.append((name, flags, test["f1_macro"], test["per_class"][MINORITY]["recall"],
                     test["balanced_accuracy"], wall))
    base = next((r for r in rows if r[0] == "none"), None)
    if base is None:
        continue
    rows.sort(key=lambda r: (r[0] != "none", -r[2]))
    print(f"\n### {title}\n")
    print("| remedy | flags | test macro-F1 | Δ | minority recall | Δ | balanced acc. | wall time |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, flags, f1, rec, ba, secs in rows:
        d_f1 = "" if name == "none" else f"{f1 - base[2]:+.3f}"
        d_rec = "" if name == "none" else f"{rec - base[3]:+.3f}"
        if secs is None:
            time = ""
        elif "goodfit decide" in flags:
            time = ("under 1 s" if secs < 1 else f"{secs:.0f} s") + " after the none run"
        else:
            time = f"{secs / 60:.1f} min"
        print(f"| {name} | `{flags or '(none)'}` | {f1:.3f} | {d_f1} | {rec:.3f} | {d_rec} | {ba:.3f} | {time} |")
