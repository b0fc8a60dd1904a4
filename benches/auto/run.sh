#!/usr/bin/env bash
# Issue 7's benchmark: `goodfit train --auto` with a 15-minute budget against the default
# single run and against frozen embeddings + logistic regression, on fine_foods and on
# fine_foods with its minority class cut to 1:20 in training (test file untouched). One seed.
# Runs whose output exists are kept, so the script can be stopped and restarted. About an
# hour on 2 cores; run it on a quiet machine (the budget is wall-clock time).
#
#   TORCH_PYTHON=/path/to/python benches/auto/run.sh
#
# PyTorch, transformers and scikit-learn (for the baseline) come from $TORCH_PYTHON, else
# from the .venv-bench that scripts/torch-python.sh makes.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/auto-benchmark}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
BUDGET=${BUDGET:-15}
GOODFIT=${GOODFIT:-target/release/goodfit}
source scripts/torch-python.sh
"$python" -c "import sklearn" 2>/dev/null || "$python" -m pip install -q scikit-learn
[ -x "$GOODFIT" ] || cargo build --release --locked
[ -d "$MODEL" ] || scripts/fetch-model.sh
mkdir -p "$OUT"
python3 benches/imbalance/make_data.py examples/fine_foods/train.jsonl "$OUT/train_1to20.jsonl"
TEST=examples/fine_foods/test.jsonl

for data in fine_foods 1to20; do
  case $data in
    fine_foods) TRAIN=examples/fine_foods/train.jsonl ;;
    1to20) TRAIN=$OUT/train_1to20.jsonl ;;
  esac
  dir=$OUT/$data
  mkdir -p "$dir"
  for balanced in "" --balanced; do
    name=frozen-lr${balanced:+-balanced}
    [ -f "$dir/$name.json" ] || "$python" benches/auto/frozen_lr.py "$MODEL" "$TRAIN" "$TEST" $balanced > "$dir/$name.json"
  done
  common=(--model "$MODEL" --train "$TRAIN" --test "$TEST" --seed 42 --quiet)
  if [ ! -f "$dir/default/metrics.json" ]; then
    start=$(date +%s)
    "$GOODFIT" train "${common[@]}" --out "$dir/default" --overwrite > "$dir/default.log" 2>&1
    echo $(( $(date +%s) - start )) > "$dir/default.seconds"
  fi
  if [ ! -f "$dir/auto/auto.json" ]; then
    start=$(date +%s)
    "$GOODFIT" train "${common[@]}" --auto --budget-minutes "$BUDGET" --out "$dir/auto" --overwrite > "$dir/auto.log" 2>&1
    echo $(( $(date +%s) - start )) > "$dir/auto.seconds"
  fi
done
python3 benches/auto/summarise.py "$OUT"
