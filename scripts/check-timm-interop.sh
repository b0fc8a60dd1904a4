#!/usr/bin/env bash
# Checks that an image model saved by `goodfit train` loads in Python's timm
# (`efficientnet_lite0` with its classes) and gives the same logits to 1e-4.
#
# Needs Python with torch, timm and safetensors: $INTEROP_PYTHON (or $TORCH_PYTHON) if set,
# else the virtual environment of scripts/torch-python.sh plus `pip install timm`.
# Not part of `make test`. Run from anywhere: scripts/check-timm-interop.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_PYTHON=${INTEROP_PYTHON:-${TORCH_PYTHON:-}}
source scripts/torch-python.sh
"$python" -c "import timm" 2>/dev/null || "$python" -m pip install --quiet timm

cargo build --release --locked --quiet
scripts/fetch-efficientnet.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A short real fine-tune on the long-tailed Fashion-MNIST example: the top 2 blocks (their
# BatchNorm statistics move) and the head, one epoch.
target/release/goodfit train --model models/efficientnet-lite0 \
    --train examples/fashion_mnist_lt/train --out "$work/run" --epochs 1 --train-layers 2 \
    --quiet > /dev/null
# The pictures at the model's size already, so that both sides read the same pixels (the
# check is of the model, not of two resizing filters).
"$python" - "$work" <<'PY'
import pathlib, sys
from PIL import Image
out = pathlib.Path(sys.argv[1]) / "bag224"
out.mkdir()
for path in sorted(pathlib.Path("examples/fashion_mnist_lt/test/bag").glob("*.png")):
    Image.open(path).convert("RGB").resize((224, 224), Image.BILINEAR).save(out / path.name)
PY
target/release/goodfit predict --run "$work/run" --input "$work/bag224" \
    --output "$work/pred.csv" --logits --quiet

"$python" - "$work" <<'PY'
import csv, json, pathlib, sys
import numpy as np, timm, torch
from PIL import Image
from safetensors.torch import load_file

work = pathlib.Path(sys.argv[1])
model_dir = work / "run/model"
config = json.loads((model_dir / "config.json").read_text())
labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
net = timm.create_model("efficientnet_lite0", num_classes=len(labels))
missing, unexpected = net.load_state_dict(load_file(str(model_dir / "model.safetensors")), strict=False)
assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
net.eval()
rows = list(csv.DictReader(open(work / "pred.csv")))
worst = 0.0
for row in rows:
    path = work / "bag224" / row["text"]
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    x = torch.tensor((pixels - 0.5) / 0.5).permute(2, 0, 1)[None]
    with torch.no_grad():
        logits = net(x)[0].numpy()
    ours = np.array([float(row[f"logit_{l}"]) for l in labels])
    worst = max(worst, float(np.abs(logits - ours).max()))
print(f"{len(rows)} pictures: largest logit difference {worst:.2e}")
assert worst < 1e-4, worst
PY
