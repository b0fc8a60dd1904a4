#!/usr/bin/env bash
# Issue 16: label findings from fine-tuned out-of-fold predictions, and whether training
# on the cleaned copy recovers. A training file with 10% of its labels flipped
# (make_noisy.py, noise seed S); `goodfit train --cv-folds 5` (the defaults: top 2
# layers, 3 epochs, seed 42) predicts every row with the fold model that did not train
# on it; `goodfit audit --run` weighs those predictions against the frozen-feature heads'
# (--run-weight W: 0 is the heads alone, 1 the fine-tune alone); then `goodfit train`
# (defaults, seed 42) on the clean file, the noisy file and, for each weight in
# TRAIN_WEIGHTS, the copy without the flagged rows and the copy with them relabelled
# (--label-fix relabel; RELABEL=0 leaves those out), every flag fixed (--label-min-score
# 0); test macro-F1 on the untouched test file.
# TRAIN_SEEDS repeats those trainings at other seeds (OUT/seeds/NAME-tSEED; seed 42 is
# OUT/train-NAME); benches/audit/train_table.py OUT prints them, paired against the noisy file. fine_foods
# (the default): about 35 minutes on 2 cores per noise seed, 5 more per training; tail5
# (`TRAIN=benches/auto/data/tail5_train.jsonl TEST=benches/auto/data/tail5_test.jsonl
# OUT=runs/audit-tail5`): a few minutes.
#
#   benches/audit/finetuned.sh [SEEDS=42] [WEIGHTS="0 0.5 1"] [TRAIN_WEIGHTS="0 1"] [BASELINES=1] [TRAIN_SEEDS=42] [RELABEL=1]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/audit}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
GOODFIT=${GOODFIT:-target/release/goodfit}
TRAIN=${TRAIN:-examples/fine_foods/train.jsonl}
TEST=${TEST:-examples/fine_foods/test.jsonl}
SEEDS=${SEEDS:-42}
WEIGHTS=${WEIGHTS:-0 0.5 1}
TRAIN_WEIGHTS=${TRAIN_WEIGHTS-0 1}
BASELINES=${BASELINES:-1}
TRAIN_SEEDS=${TRAIN_SEEDS:-42}
RELABEL=${RELABEL:-1}
mkdir -p "$OUT/seeds"
train() {  # RUN TRAIN_FILE SEED [FLAGS...]
  local run=$1 file=$2 seed=$3; shift 3
  [ -f "$run/metrics.json" ] || "$GOODFIT" train --model "$MODEL" --train "$file" --test "$TEST" \
    --seed "$seed" --quiet --out "$run" --overwrite "$@" > "$run.log" 2>&1
  python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print(sys.argv[2], round(m["test"]["f1_macro"], 4))' \
    "$run/metrics.json" "${run#"$OUT"/}"
}
fit() {  # NAME TRAIN_FILE: the defaults at every training seed
  for t in $TRAIN_SEEDS; do
    if [ "$t" = 42 ]; then train "$OUT/train-$1" "$2" 42; else train "$OUT/seeds/$1-t$t" "$2" "$t"; fi
  done
}
[ "$BASELINES" = 1 ] && fit clean "$TRAIN"
for seed in $SEEDS; do
  noisy=$OUT/noisy10-s$seed.jsonl
  [ -f "$noisy" ] || python3 benches/audit/make_noisy.py "$TRAIN" "$noisy" 0.1 "$seed"
  [ "$BASELINES" = 1 ] && fit "noisy10-s$seed" "$noisy"
  cv=cv5-noisy10-s$seed
  train "$OUT/$cv" "$noisy" 42 --cv-folds 5
  audits=()
  for w in $WEIGHTS; do
    dir=$OUT/audit-ft$w-s$seed
    [ -f "$dir/audit.json" ] || "$GOODFIT" audit --model "$MODEL" --data "$noisy" --seed "$seed" \
      --run "$OUT/$cv" --run-weight "$w" --out "$dir" --overwrite \
      --write-clean "$OUT/cleaned-ft$w-s$seed.jsonl" --label-fix drop --label-min-score 0 \
      --quiet --top 0 > /dev/null
    audits+=("$dir")
  done
  python3 benches/audit/flag_scores.py "$noisy" "${audits[@]}"
  for w in $TRAIN_WEIGHTS; do
    fit "cleaned-ft$w-s$seed" "$OUT/cleaned-ft$w-s$seed.jsonl"
    [ "$RELABEL" = 1 ] || continue
    # The same findings, the rows kept under their suggested label (--label-fix relabel).
    relabelled=$OUT/relabelled-ft$w-s$seed.jsonl
    [ -f "$relabelled" ] || "$GOODFIT" audit --model "$MODEL" --data "$noisy" --seed "$seed" \
      --run "$OUT/$cv" --run-weight "$w" --write-clean "$relabelled" --label-fix relabel \
      --label-min-score 0 --quiet --top 0 > /dev/null
    fit "relabelled-ft$w-s$seed" "$relabelled"
  done
done
python3 benches/audit/train_table.py "$OUT"
