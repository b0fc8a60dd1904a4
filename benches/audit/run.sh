#!/usr/bin/env bash
# Issue 16's measurement: fine_foods with 10% of its training labels flipped (seeded),
# `goodfit audit` against cleanlab + scikit-learn's logistic regression on the same frozen
# embeddings (precision and recall of the flagged rows), then `goodfit train` (defaults,
# seed 42) on the clean file, the noisy file and the noisy file cleaned by the audit; test
# macro-F1 on the untouched test file. About 30 minutes on 2 cores (three fine-tunes).
#
#   benches/audit/run.sh [SEEDS="42 43 44 45 46"] [TRAIN=1]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/audit}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
GOODFIT=${GOODFIT:-target/release/goodfit}
PYTHON=${PYTHON:-.venv-bench/bin/python}
DATA=${DATA:-examples/fine_foods}
SEEDS=${SEEDS:-42 43 44 45 46}
mkdir -p "$OUT"
for seed in $SEEDS; do
  noisy=$OUT/noisy10-s$seed.jsonl
  [ -f "$noisy" ] || python3 benches/audit/make_noisy.py "$DATA/train.jsonl" "$noisy" 0.1 "$seed"
  [ -f "$OUT/audit-s$seed/audit.json" ] || "$GOODFIT" audit --model "$MODEL" --data "$noisy" \
    --test "$DATA/test.jsonl" --seed "$seed" --out "$OUT/audit-s$seed" --overwrite \
    --write-clean "$OUT/cleaned10-s$seed.jsonl" --quiet --top 0 > /dev/null
  echo "noise seed $seed"
  "$PYTHON" benches/audit/compare_cleanlab.py "$MODEL" "$noisy" "$OUT/audit-s$seed" "$seed" | grep '^{'
done
[ "${TRAIN:-1}" = 1 ] || exit 0
train() {  # NAME TRAIN_FILE
  [ -f "$OUT/train-$1/metrics.json" ] || "$GOODFIT" train --model "$MODEL" --train "$2" \
    --test "$DATA/test.jsonl" --seed 42 --quiet --out "$OUT/train-$1" --overwrite > "$OUT/train-$1.log" 2>&1
  python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print(sys.argv[2], round(m["test"]["f1_macro"], 4))' \
    "$OUT/train-$1/metrics.json" "$1"
}
train clean "$DATA/train.jsonl"
train noisy10-s42 "$OUT/noisy10-s42.jsonl"
train cleaned10-s42 "$OUT/cleaned10-s42.jsonl"
