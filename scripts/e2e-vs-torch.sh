#!/usr/bin/env bash
# End to end: `goodfit train` with its defaults (top 2 layers, 3 epochs) on fine_foods against
# the same recipe as a plain PyTorch loop (scripts/train-torch.py), one after the other, and
# the ratio of wall times. PyTorch as in scripts/bench-vs-torch.sh ($TORCH_PYTHON or
# .venv-bench). Takes about 20 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
source scripts/torch-python.sh
[ -d "$MODEL" ] || scripts/fetch-model.sh
cargo build --release --locked --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=examples/fine_foods
start=$(date +%s.%N)
RAYON_NUM_THREADS=${THREADS:-2} target/release/goodfit train --model "$MODEL" --train $data/train.jsonl \
    --test $data/test.jsonl --out "$work/run" --quiet > "$work/goodfit.txt"
end=$(date +%s.%N)
THREADS=${THREADS:-2} "$python" scripts/train-torch.py "$MODEL" $data/train.jsonl $data/test.jsonl > "$work/torch.json"
python3 - "$start" "$end" "$work/run/metrics.json" "$work/torch.json" <<'PY'
import json, sys
g_seconds = float(sys.argv[2]) - float(sys.argv[1])
g = json.load(open(sys.argv[3]))
t = json.load(open(sys.argv[4]))
print("| | wall time | test macro-F1 |")
print("|---|---:|---:|")
print(f"| goodfit train (defaults) | {g_seconds / 60:.1f} min | {g['test']['f1_macro']:.3f} |")
print(f"| PyTorch loop, same recipe | {t['seconds'] / 60:.1f} min | {t['test_f1_macro']:.3f} |")
print(f"| goodfit / PyTorch | {g_seconds / t['seconds']:.2f}× | |")
PY
