#!/usr/bin/env bash
# Checks that an image model saved by `goodfit train` loads in Python's timm and gives the
# same logits to 1e-4: `efficientnet_lite0` (the real weights; the default), or `resnet18`
# (a randomly initialised torchvision resnet18 saved by `torch.save(state_dict)`, imported
# with `goodfit import-weights`, fine-tuned, then loaded by torchvision and by timm).
#
# Usage: scripts/check-timm-interop.sh [efficientnet_lite0|resnet18]
# Needs Python with torch, timm and safetensors: $INTEROP_PYTHON (or $TORCH_PYTHON) if set,
# else the virtual environment of scripts/torch-python.sh plus `pip install timm`.
# Not part of `make test`. Run from anywhere: scripts/check-timm-interop.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_PYTHON=${INTEROP_PYTHON:-${TORCH_PYTHON:-}}
source scripts/torch-python.sh
"$python" -c "import timm" 2>/dev/null || "$python" -m pip install --quiet timm

ARCH=${1:-efficientnet_lite0}
cargo build --release --locked --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
case $ARCH in
  efficientnet_lite0) scripts/fetch-efficientnet.sh; MODEL=models/efficientnet-lite0; MEAN=0.5,0.5,0.5; STD=0.5,0.5,0.5 ;;
  resnet18)
    "$python" -c "import torchvision" 2>/dev/null || "$python" -m pip install --quiet torchvision
    "$python" -c "import sys, torch, torchvision; torch.manual_seed(0); torch.save(torchvision.models.resnet18().state_dict(), sys.argv[1])" "$work/resnet18.pth"
    target/release/goodfit import-weights --from resnet18 --pth "$work/resnet18.pth" --out "$work/resnet18" > /dev/null
    MODEL=$work/resnet18; MEAN=0.485,0.456,0.406; STD=0.229,0.224,0.225 ;;
  *) echo "unknown architecture '$ARCH' (efficientnet_lite0, resnet18)" >&2; exit 2 ;;
esac

# A short real fine-tune on the long-tailed Fashion-MNIST example: the top 2 blocks (their
# BatchNorm statistics move) and the head, one epoch.
target/release/goodfit train --model "$MODEL" \
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

"$python" - "$work" "$ARCH" "$MEAN" "$STD" <<'PY'
import csv, json, pathlib, sys
import numpy as np, timm, torch
from PIL import Image
from safetensors.torch import load_file

work, arch = pathlib.Path(sys.argv[1]), sys.argv[2]
mean, std = (np.array([float(v) for v in a.split(",")], dtype=np.float32) for a in sys.argv[3:5])
model_dir = work / "run/model"
config = json.loads((model_dir / "config.json").read_text())
labels = [config["id2label"][str(i)] for i in range(len(config["id2label"]))]
state = load_file(str(model_dir / "model.safetensors"))
nets = [timm.create_model(arch, num_classes=len(labels))]
if arch == "resnet18":
    import torchvision
    nets.append(torchvision.models.resnet18(num_classes=len(labels)))
for net in nets:
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    net.eval()
rows = list(csv.DictReader(open(work / "pred.csv")))
worst = 0.0
for row in rows:
    path = work / "bag224" / row["text"]
    pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
    x = torch.tensor((pixels - mean) / std).permute(2, 0, 1)[None]
    ours = np.array([float(row[f"logit_{l}"]) for l in labels])
    for net in nets:
        with torch.no_grad():
            logits = net(x)[0].numpy()
        worst = max(worst, float(np.abs(logits - ours).max()))
print(f"{arch}, {len(rows)} pictures, {len(nets)} loader(s): largest logit difference {worst:.2e}")
assert worst < 1e-4, worst
PY
