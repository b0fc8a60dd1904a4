#!/usr/bin/env bash
# Issue 16: which cleaned copy recovers what 10% of flipped labels cost the default
# fine-tune. For each noise seed, make_noisy.py flips 10% of TRAIN's labels; `goodfit
# audit` (the frozen-feature heads, no run) writes one cleaned copy per FIX, named by how
# it fixes the label issues and from which score: relabel0.9 (the defaults: relabel the
# flags scored 0.9 or more, keep the rest as given), drop0.9, relabel0 and drop0 (every
# flag); then `goodfit train` (defaults) on the clean file, the noisy file and each copy at
# every training seed; test macro-F1 on the untouched TEST. benches/audit/fix_table.py OUT
# prints the table. tail5 (the default): 47 s per training on 2 cores, about 80 minutes
# for everything below.
#
#   benches/audit/fixes.sh [NOISE_SEEDS="42 43 44 45 46 47"] [TRAIN_SEEDS="42 43 44"] [FIXES="relabel0.9 drop0.9 relabel0 drop0"]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/t5}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
GOODFIT=${GOODFIT:-target/release/goodfit}
TRAIN=${TRAIN:-benches/auto/data/tail5_train.jsonl}
TEST=${TEST:-benches/auto/data/tail5_test.jsonl}
NOISE_SEEDS=${NOISE_SEEDS:-42 43 44 45 46 47}
TRAIN_SEEDS=${TRAIN_SEEDS:-42 43 44}
FIXES=${FIXES:-relabel0.9 drop0.9 relabel0 drop0}
mkdir -p "$OUT"
train() {  # NAME TRAIN_FILE SEED
  local run=$OUT/train-$1-t$3
  [ -f "$run/metrics.json" ] || "$GOODFIT" train --model "$MODEL" --train "$2" --test "$TEST" \
    --seed "$3" --quiet --out "$run" --overwrite > "$run.log" 2>&1
  python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print(sys.argv[2], round(m["test"]["f1_macro"], 4))' \
    "$run/metrics.json" "${run#"$OUT"/train-}"
}
for t in $TRAIN_SEEDS; do train clean "$TRAIN" "$t"; done
for s in $NOISE_SEEDS; do
  noisy=$OUT/noisy-s$s.jsonl
  [ -f "$noisy" ] || python3 benches/audit/make_noisy.py "$TRAIN" "$noisy" 0.1 "$s"
  for t in $TRAIN_SEEDS; do train "noisy-s$s" "$noisy" "$t"; done
  for fix in $FIXES; do
    copy=$OUT/$fix-s$s.jsonl
    [ -f "$copy" ] || "$GOODFIT" audit --model "$MODEL" --data "$noisy" --seed "$s" --quiet --top 0 \
      --write-clean "$copy" --label-fix "${fix%%[0-9]*}" --label-min-score "${fix#"${fix%%[0-9]*}"}" > /dev/null
    for t in $TRAIN_SEEDS; do train "$fix-s$s" "$copy" "$t"; done
  done
done
python3 benches/audit/fix_table.py "$OUT"
