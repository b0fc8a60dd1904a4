#!/usr/bin/env bash
# Issue 12's recipe ablation: each few-sample fine-tuning recipe as one `goodfit train`
# setting, against the same fine-tune without it, on small data, over 3 seeds (the seed
# moves the validation split, the shuffles, dropout and the head's initial weights).
#
#   base     the search's first fine-tune on small data: the top layer, 10 epochs,
#            balanced class weights
#   lpft     base, with the head started from a head-only run (LP-FT) and the head's
#            learning rate the encoder's (1e-4)
#   lpft-hl  base, with the head started from a head-only run, head learning rate 1e-3
#   reinit   base, with the top layer re-initialised
#   swa      base, keeping the average of the last 3 epochs' weights (no early stopping)
#   rdrop    base, with R-Drop α = 1
#   top3     the top 3 layers; top3-llrd: with layer-wise learning-rate decay 0.8
#   lrfind   base at the learning rates `goodfit lr-find` suggests for it (same flags)
#   gradual  base, with gradual unfreezing (epoch 1 the head alone, then the top layer)
#   top3-gradual  the top 3 layers, unfrozen one per epoch after the head
#   mixup    base, with mixup of pooled features, α = 0.4
#   eda      base, with 4 EDA copies of each training text (word swaps / deletions, α 0.1)
#   head     the head-only run LP-FT starts from (30 epochs, head learning rate 1e-2)
#
# REMEDY replaces the base's imbalance remedy (default `--class-weight balanced`; on 1:20
# `--loss logit-adjusted`, where balanced weights keep epoch 1).
#
# Runs whose metrics exist are kept. Adds the finished runs to benches/auto/recipes_scores.csv
# (the record of every measured run) and prints its table of test macro-F1, mean ± standard
# error over the seeds (benches/auto/recipes_table.py).
#
#   SETS="tail5 ff300" SEEDS="42 43 44" benches/auto/recipes.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/recipes}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
GOODFIT=${GOODFIT:-target/release/goodfit}
SETS=${SETS:-tail5 ff300}
SEEDS=${SEEDS:-42 43 44}
read -r -a REMEDY <<< "${REMEDY:---class-weight balanced}"
RECIPES=${RECIPES:-base lpft lpft-hl reinit swa rdrop gradual mixup eda top3 top3-llrd top3-gradual lrfind}
source benches/auto/sets.sh

for data in $SETS; do
  set_files "$data"
  for seed in $SEEDS; do
    dir=$OUT/$data/$seed
    mkdir -p "$dir"
    run() {  # NAME FLAGS...
      local name=$1; shift
      [ -f "$dir/$name/metrics.json" ] && return
      local start=$(date +%s)
      "$GOODFIT" train --model "$MODEL" --train "$TRAIN" --test "$TEST" --seed "$seed" \
        "${REMEDY[@]}" --quiet --out "$dir/$name" "$@" > "$dir/$name.log" 2>&1
      echo $(( $(date +%s) - start )) > "$dir/$name.seconds"
    }
    base=(--train-layers 1 --epochs 10)
    run head --train-layers 0 --epochs 30 --head-lr 1e-2 --patience 3
    for recipe in $RECIPES; do
      case $recipe in
        base) run base "${base[@]}" ;;
        lpft) run lpft "${base[@]}" --init-head "$dir/head/model" --head-lr 1e-4 ;;
        lpft-hl) run lpft-hl "${base[@]}" --init-head "$dir/head/model" ;;
        reinit) run reinit "${base[@]}" --reinit-layers 1 ;;
        swa) run swa "${base[@]}" --swa-epochs 3 --patience 0 ;;
        rdrop) run rdrop "${base[@]}" --rdrop 1 ;;
        gradual) run gradual "${base[@]}" --gradual-unfreeze true ;;
        top3-gradual) run top3-gradual --train-layers 3 --epochs 10 --gradual-unfreeze true ;;
        mixup) run mixup "${base[@]}" --mixup 0.4 ;;
        eda) run eda "${base[@]}" --eda-copies 4 --eda-alpha 0.1 ;;
        top3) run top3 --train-layers 3 --epochs 10 ;;
        top3-llrd) run top3-llrd --train-layers 3 --epochs 10 --layer-lr-decay 0.8 ;;
        lrfind)
          [ -f "$dir/lr-find/lr_find.json" ] || "$GOODFIT" lr-find --model "$MODEL" --train "$TRAIN" \
            --seed "$seed" "${REMEDY[@]}" --quiet --out "$dir/lr-find" "${base[@]}" \
            > "$dir/lr-find.log" 2>&1
          read -r lr head_lr < <(python3 -c 'import json, sys; f = json.load(open(sys.argv[1]))
print(f["suggestion"], f["suggested_head_lr"])' "$dir/lr-find/lr_find.json")
          # No rate stands out (the loss fell under 10%): the recipe is the base itself.
          if [ "$lr" = None ]; then
            echo "lr-find suggests no rate: lrfind = base" > "$dir/lrfind.log"
          else
            run lrfind "${base[@]}" --lr "$lr" --head-lr "$head_lr"
          fi ;;
      esac
    done
  done
done
python3 benches/auto/recipes_table.py --add "$OUT" --remedy "${REMEDY[*]}"
