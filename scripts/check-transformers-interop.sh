#!/usr/bin/env bash
# Checks that a model saved by `goodfit train` loads in Python's transformers
# (AutoModelForSequenceClassification) and gives the same logits to 1e-4.
#
# Needs Python with torch and transformers: it uses $INTEROP_PYTHON (or $TORCH_PYTHON) if
# set, else makes a virtual environment in .venv-bench (pip install torch transformers).
# Not part of `make test`. Run from anywhere: scripts/check-transformers-interop.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_PYTHON=${INTEROP_PYTHON:-${TORCH_PYTHON:-}}
source scripts/torch-python.sh

scripts/fetch-model.sh
cargo build --release --locked --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A short real fine-tune: 400 fine_foods reviews, one epoch, top layer + pooler + head.
head -n 400 examples/fine_foods/train.jsonl > "$work/train.jsonl"
head -n 100 examples/fine_foods/test.jsonl > "$work/texts.jsonl"
target/release/goodfit train --model models/all-MiniLM-L6-v2 --train "$work/train.jsonl" \
    --out "$work/run" --epochs 1 --train-layers 1 --pooling pooler --max-len 64 --quiet > /dev/null
target/release/goodfit predict --run "$work/run" --input "$work/texts.jsonl" \
    --output "$work/pred.jsonl" --logits --quiet
# DistilBERT (the random test fixture): the first token's state, pre_classifier + ReLU.
target/release/goodfit train --model crates/goodfit/tests/fixtures/distilbert_tiny \
    --train "$work/train.jsonl" --out "$work/distil" --epochs 1 --train-layers 1 \
    --pooling cls --head-hidden 32 --quiet > /dev/null
target/release/goodfit predict --run "$work/distil" --input "$work/texts.jsonl" \
    --output "$work/distil.jsonl" --logits --quiet

for pair in "$work/run/model $work/pred.jsonl" "$work/distil/model $work/distil.jsonl"; do
"$python" - $pair <<'PY'
import json, os, sys
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, PreTrainedTokenizerFast

model_dir, predictions = sys.argv[1], sys.argv[2]
info = json.load(open(f"{model_dir}/goodfit.json"))
model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()
if os.path.exists(f"{model_dir}/tokenizer_config.json"):
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
else:  # a bare tokenizer.json, as the DistilBERT fixture has
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=f"{model_dir}/tokenizer.json", pad_token="[PAD]")
rows = [json.loads(line) for line in open(predictions)]
labels = [str(l) for l in info["labels"]]
assert [model.config.id2label[i] for i in range(len(labels))] == labels, model.config.id2label
ours = torch.tensor([[row[f"logit_{l}"] for l in labels] for row in rows], dtype=torch.float64)
batch = tokenizer([row["text"] for row in rows], padding=True, truncation=True,
                  max_length=info["max_len"], return_tensors="pt")
with torch.no_grad():
    theirs = model(**batch).logits.double()
worst = (ours - theirs).abs().max().item()
print(f"{type(model).__name__}: {len(rows)} texts, {len(labels)} classes: largest logit difference {worst:.2e}")
sys.exit(0 if worst < 1e-4 else 1)
PY
done
