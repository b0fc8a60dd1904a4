#!/usr/bin/env bash
# The imbalance benchmark: fine_foods with its minority class cut to 1:20 in training, one
# goodfit run per remedy, then a table of test macro-F1 and minority recall against the
# no-remedy run (summarise.py). Runs whose metrics.json exists are kept, so the script can be
# stopped and restarted.
#
#   benches/imbalance/run.sh            # both blocks (about 1.5 hours on 2 cores)
#
# The wall times in the table are of runs made two at a time on 2 cores, alongside builds.
#   BLOCKS=head benches/imbalance/run.sh   # only the frozen-encoder block (minutes)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/imbalance-benchmark}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
BLOCKS=${BLOCKS:-"head finetune"}
GOODFIT=${GOODFIT:-target/release/goodfit}
[ -x "$GOODFIT" ] || cargo build --release --locked
[ -d "$MODEL" ] || scripts/fetch-model.sh
mkdir -p "$OUT"
python3 benches/imbalance/make_data.py examples/fine_foods/train.jsonl "$OUT/train_1to20.jsonl"

COMMON=(--model "$MODEL" --train "$OUT/train_1to20.jsonl" --test examples/fine_foods/test.jsonl
        --val-fraction 0.2 --seed 42 --quiet)

run() { # block name flags...
  local block=$1 name=$2; shift 2
  local dir="$OUT/$block/$name"
  if [ -f "$dir/metrics.json" ]; then echo "kept $dir"; return; fi
  echo "== $block/$name: $*"
  mkdir -p "$dir"
  "$GOODFIT" train "${COMMON[@]}" "${BLOCK_FLAGS[@]}" --out "$dir" --overwrite "$@" > "$dir.log" 2>&1 \
    || { echo "failed: see $dir.log"; tail -3 "$dir.log"; }
  echo "$*" > "$dir/flags.txt"
}

decide() { # block name flags...: the none run's model with another decision rule
  local block=$1 name=$2; shift 2
  local dir="$OUT/$block/$name"
  if [ -f "$dir/flags.txt" ]; then echo "kept $dir"; return; fi
  echo "== $block/$name: goodfit decide $*"
  rm -rf "$dir" && cp -r "$OUT/$block/none" "$dir" && rm -f "$dir/flags.txt"
  touch "$dir/config.toml"
  "$GOODFIT" decide "$dir" "$@" > "$dir.log" 2>&1 || { echo "failed: see $dir.log"; tail -3 "$dir.log"; }
  echo "$* (goodfit decide on the none run)" > "$dir/flags.txt"
}

for block in $BLOCKS; do
  case $block in
    head) BLOCK_FLAGS=(--train-layers 0 --epochs 40 --head-lr 1e-2 --patience 5 --monitor val_f1_macro) ;;
    finetune) BLOCK_FLAGS=(--train-layers 2 --epochs 3) ;;
  esac
  mkdir -p "$OUT/$block"
  run "$block" none
  run "$block" class-weight --class-weight balanced
  run "$block" sampler --sampler balanced
  run "$block" focal --loss focal --focal-gamma 2
  # Decision rules do not change training: the same seed gives the none run's model, so
  # they are set on a copy of it (goodfit decide) instead of training it again.
  decide "$block" posthoc-adjust --logit-adjust 1
  decide "$block" tune-f1 --tune-threshold f1
  decide "$block" tune-f1-macro --tune-threshold f1_macro
  if [ "$block" = head ]; then
    for method in random smote borderline adasyn; do
      run "$block" "oversample-$method" --oversample "$method"
    done
  else
    run "$block" logit-adjusted-loss --loss logit-adjusted
  fi
done
python3 benches/imbalance/summarise.py "$OUT"
