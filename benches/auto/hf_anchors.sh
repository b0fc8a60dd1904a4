#!/usr/bin/env bash
# The plain Hugging Face fine-tune anchors of issue 12 (benches/auto/hf_finetune.py), with
# and without class weights, on the four bench sets over seeds 42-44. One JSON line per run
# in $OUT/hf_anchors.jsonl. Needs Python with torch, transformers and scikit-learn
# ($PYTHON, default .venv-bench/bin/python). About an hour on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
GOODFIT=${GOODFIT:-target/release/goodfit}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
OUT=${OUT:-runs/hf-anchors}
PYTHON=${PYTHON:-.venv-bench/bin/python}
SETS=${SETS:-tail5 ff300 1to20 fine_foods}
SEEDS=${SEEDS:-42 43 44}
THREADS=${THREADS:-2}
source benches/auto/sets.sh
for data in $SETS; do
  set_files "$data"
  for seed in $SEEDS; do
    for weights in "" --class-weights; do
      line=$("$PYTHON" benches/auto/hf_finetune.py "$MODEL" "$TRAIN" "$TEST" $weights --seed "$seed" --threads "$THREADS")
      echo "{\"data\": \"$data\", ${line#\{}" | tee -a "$OUT/hf_anchors.jsonl"
    done
  done
done
