#!/usr/bin/env bash
# Issue 12's greedy soup (Wortsman et al. 2022) against its members and their
# probability ensemble: for each split seed, MEMBERS fine-tunes of the same configuration
# that differ only in their seed (head initialisation, batch order, dropout) and share the
# validation split (`--split-seed`), then `goodfit soup` over them and `goodfit eval` of
# the soup on the test file. `soup_table.py` prints test macro-F1 of the mean member, the
# member best on validation, the probability ensemble of all members and the greedy soup,
# mean ± standard error over the split seeds.
#
#   SETS="tail5 ff300" SPLITS="42 43 44" MEMBERS=4 benches/auto/soup.sh
#
# FLAGS sets the members' configuration (default: the ablation's base, the top layer for
# 10 epochs with balanced class weights); runs whose metrics exist are kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/soup}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
GOODFIT=${GOODFIT:-target/release/goodfit}
SETS=${SETS:-tail5 ff300}
SPLITS=${SPLITS:-42 43 44}
MEMBERS=${MEMBERS:-4}
read -r -a FLAGS <<< "${FLAGS:---train-layers 1 --epochs 10 --class-weight balanced}"
source benches/auto/sets.sh

for data in $SETS; do
  set_files "$data"
  for split in $SPLITS; do
    dir=$OUT/$data/$split
    mkdir -p "$dir"
    runs=()
    for m in $(seq 1 "$MEMBERS"); do
      run=$dir/member$m
      runs+=("$run")
      [ -f "$run/metrics.json" ] && continue
      "$GOODFIT" train --model "$MODEL" --train "$TRAIN" --test "$TEST" --split-seed "$split" \
        --seed $(( split * 100 + m )) "${FLAGS[@]}" --quiet --out "$run" > "$run.log" 2>&1
    done
    if [ ! -f "$dir/soup/soup.json" ]; then
      "$GOODFIT" soup "${runs[@]}" --out "$dir/soup" --quiet --overwrite > "$dir/soup.log"
      "$GOODFIT" eval --run "$dir/soup" --data "$TEST" --json > "$dir/soup/test.json"
    fi
  done
done
python3 benches/auto/soup_table.py "$OUT"
