#!/usr/bin/env bash
# Issue 12's benchmark: `goodfit train --auto --budget-minutes 15` on small and long-tailed
# data against frozen embeddings + logistic regression (plain and balanced, C by 5-fold
# cross-validation): the 5-class fortune set (benches/auto/data, 200/100/50/25/12 rows),
# fine_foods cut to 300 rows, and fine_foods with its minority cut to 1:20. One seed (42).
# Runs whose output exists are kept. About an hour on 2 cores, on a quiet machine (the
# budget is wall-clock time).
#
#   TORCH_PYTHON=/path/to/python benches/auto/run_small.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/auto-small}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
BUDGET=${BUDGET:-15}
GOODFIT=${GOODFIT:-target/release/goodfit}
source scripts/torch-python.sh
"$python" -c "import sklearn" 2>/dev/null || "$python" -m pip install -q scikit-learn
[ -x "$GOODFIT" ] || cargo build --release --locked
[ -d "$MODEL" ] || scripts/fetch-model.sh
mkdir -p "$OUT"
python3 benches/auto/make_sets.py --only ff300 "$OUT" > /dev/null
python3 benches/imbalance/make_data.py examples/fine_foods/train.jsonl "$OUT/train_1to20.jsonl"
FF_TEST=examples/fine_foods/test.jsonl

for data in tail5 ff300 1to20; do
  case $data in
    tail5) TRAIN=benches/auto/data/tail5_train.jsonl; TEST=benches/auto/data/tail5_test.jsonl ;;
    ff300) TRAIN=$OUT/ff300_train.jsonl; TEST=$FF_TEST ;;
    1to20) TRAIN=$OUT/train_1to20.jsonl; TEST=$FF_TEST ;;
  esac
  dir=$OUT/$data
  mkdir -p "$dir"
  for balanced in "" --balanced; do
    name=frozen-lr${balanced:+-balanced}
    [ -f "$dir/$name.json" ] || "$python" benches/auto/frozen_lr.py "$MODEL" "$TRAIN" "$TEST" $balanced > "$dir/$name.json"
  done
  if [ ! -f "$dir/auto/auto.json" ]; then
    start=$(date +%s)
    "$GOODFIT" train --model "$MODEL" --train "$TRAIN" --test "$TEST" --seed 42 --auto \
      --budget-minutes "$BUDGET" --out "$dir/auto" --overwrite > "$dir/auto.log" 2>&1
    echo $(( $(date +%s) - start )) > "$dir/auto.seconds"
  fi
  python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
row = lambda name, f1: print(f"| {d.rsplit('/', 1)[-1]} | {name} | {f1:.3f} |")
for name in ("frozen-lr", "frozen-lr-balanced"):
    row(name, json.load(open(f"{d}/{name}.json"))["test_f1_macro"])
auto = json.load(open(f"{d}/auto/auto.json"))
row("--auto, first trial", auto["first"]["test"]["f1_macro"])
row("--auto, chosen", auto["chosen"]["test"]["f1_macro"])
PY
done
