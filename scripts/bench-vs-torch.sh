#!/usr/bin/env bash
# goodfit against PyTorch on the same shapes, side by side in one run: a training step and
# an inference batch of all-MiniLM-L6-v2 (or $MODEL), and the peak memory of each, with the
# ratios goodfit / PyTorch (below 1: goodfit is faster or smaller).
#
#   scripts/bench-vs-torch.sh                        # batch 16 × 128 tokens, every layer trains
#   TRAIN_LAYERS=2 SEQ_LEN=64 scripts/bench-vs-torch.sh
#
# PyTorch comes from $TORCH_PYTHON if set, else from a virtual environment made in
# .venv-bench (pip install torch transformers; a few GB). Both sides use $THREADS threads (2).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
BATCH=${BATCH:-16}
SEQ_LEN=${SEQ_LEN:-128}
TRAIN_LAYERS=${TRAIN_LAYERS:-all}
STEPS=${STEPS:-5}
THREADS=${THREADS:-2}

source scripts/torch-python.sh
[ -d "$MODEL" ] || scripts/fetch-model.sh
cargo build --release --locked --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

shape=(--batch-size "$BATCH" --seq-len "$SEQ_LEN" --train-layers "$TRAIN_LAYERS" --steps "$STEPS")
# Alternate the two so that neither gets a quieter machine.
RAYON_NUM_THREADS=$THREADS target/release/goodfit bench --model "$MODEL" "${shape[@]}" --json > "$work/goodfit.json"
"$python" scripts/bench-torch.py --model "$MODEL" "${shape[@]}" --threads "$THREADS" > "$work/torch.json"

python3 - "$work/goodfit.json" "$work/torch.json" <<'PY'
import json, statistics, sys, platform, datetime
g, t = (json.load(open(p)) for p in sys.argv[1:3])
def med(x): return statistics.median(x)
rows = [
    ("training step (s, median)", med(g["train_step_seconds"]), med(t["train_step_seconds"])),
    ("inference batch (s, median)", med(g["inference_seconds"]), med(t["inference_seconds"])),
    ("peak memory after training (GiB)", g["peak_rss_after_training"] / 2**30, t["peak_rss_after_training"] / 2**30),
    ("peak memory after inference (GiB)", g["peak_rss_after_inference"] / 2**30, t["peak_rss_after_inference"] / 2**30),
]
print(f"{datetime.date.today()}, {platform.machine()}, {g['threads']} threads (goodfit) / {t['threads']} (torch {t['torch']})")
print("| measure | goodfit | PyTorch | goodfit / PyTorch |")
print("|---|---:|---:|---:|")
for name, a, b in rows:
    print(f"| {name} | {a:.3f} | {b:.3f} | {a / b:.2f}× |")
PY
