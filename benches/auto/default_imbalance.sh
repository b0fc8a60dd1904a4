#!/usr/bin/env bash
# What should plain `goodfit train` do on imbalanced data when no remedy is given? Runs the
# defaults (top 2 layers, 3 epochs, cross-entropy), the logit-adjusted loss and balanced
# class weights on the long-tailed 5-class set (16 : 1) and fine_foods cut to 300 rows
# (1.9 : 1), 3 seeds each, and prints test macro-F1 per remedy (mean ± standard error).
# (fine_foods cut to 1:20 is benches/imbalance's: the logit-adjusted loss +0.387.)
#
#   benches/auto/default_imbalance.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-runs/default-imbalance}
MODEL=${MODEL:-models/all-MiniLM-L6-v2}
GOODFIT=${GOODFIT:-target/release/goodfit}
SEEDS=${SEEDS:-42 43 44}
[ -x "$GOODFIT" ] || cargo build --release --locked
[ -d "$MODEL" ] || scripts/fetch-model.sh
mkdir -p "$OUT"
python3 benches/auto/make_sets.py --only ff300 "$OUT" > /dev/null
for data in tail5 ff300; do
  case $data in
    tail5) TRAIN=benches/auto/data/tail5_train.jsonl; TEST=benches/auto/data/tail5_test.jsonl ;;
    ff300) TRAIN=$OUT/ff300_train.jsonl; TEST=examples/fine_foods/test.jsonl ;;
  esac
  for seed in $SEEDS; do
    for remedy in none logit-adjusted balanced; do
      case $remedy in
        none) flags=() ;;
        logit-adjusted) flags=(--loss logit-adjusted) ;;
        balanced) flags=(--class-weight balanced) ;;
      esac
      out=$OUT/$data/$seed/$remedy
      mkdir -p "$OUT/$data/$seed"
      [ -f "$out/metrics.json" ] || "$GOODFIT" train --model "$MODEL" --train "$TRAIN" \
        --test "$TEST" --seed "$seed" --quiet --out "$out" --overwrite "${flags[@]}" > "$out.log" 2>&1
    done
  done
done
python3 - "$OUT" <<'PY'
import json, math, os, sys
out = sys.argv[1]
print("| data | remedy | test macro-F1 (mean ± SE) | seeds |")
print("|---|---|---:|---|")
for data in ("tail5", "ff300"):
    for remedy in ("none", "logit-adjusted", "balanced"):
        xs = []
        for seed in sorted(os.listdir(os.path.join(out, data))):
            p = os.path.join(out, data, seed, remedy, "metrics.json")
            if os.path.exists(p):
                xs.append(json.load(open(p))["test"]["f1_macro"])
        if xs:
            m = sum(xs) / len(xs)
            se = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1) / len(xs)) if len(xs) > 1 else float("nan")
            print(f"| {data} | {remedy} | {m:.3f} ± {se:.3f} | {', '.join(f'{x:.3f}' for x in xs)} |")
PY
