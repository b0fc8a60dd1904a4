# Sourced by recipes.sh and soup.sh: builds the goodfit binary and fetches the model when
# missing, makes the derived training files in $OUT, and defines `set_files DATA`, which
# sets TRAIN and TEST for one of tail5, ff300, 1to20 and fine_foods.
[ -x "$GOODFIT" ] || cargo build --release --locked
[ -d "$MODEL" ] || scripts/fetch-model.sh
mkdir -p "$OUT"
python3 benches/auto/make_sets.py --only ff300 "$OUT" > /dev/null
python3 benches/imbalance/make_data.py examples/fine_foods/train.jsonl "$OUT/train_1to20.jsonl" > /dev/null

set_files() {
  case $1 in
    tail5) TRAIN=benches/auto/data/tail5_train.jsonl; TEST=benches/auto/data/tail5_test.jsonl ;;
    ff300) TRAIN=$OUT/ff300_train.jsonl; TEST=examples/fine_foods/test.jsonl ;;
    1to20) TRAIN=$OUT/train_1to20.jsonl; TEST=examples/fine_foods/test.jsonl ;;
    fine_foods) TRAIN=examples/fine_foods/train.jsonl; TEST=examples/fine_foods/test.jsonl ;;
    *) echo "unknown set '$1' (tail5, ff300, 1to20, fine_foods)" >&2; exit 2 ;;
  esac
}
