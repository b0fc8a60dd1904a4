"""PyTorch's side of `goodfit bench --model models/efficientnet-lite0` (timm's
efficientnet_lite0 with the same weights) or of `goodfit bench --model MODEL_DIR` for a
resnet18 folder (timm's resnet18, random weights: speed does not depend on them), with a
new 2-class head, random 224x224 inputs, 2 threads. Times inference batches (eval mode, no gradients) and training steps (train
mode: forward, cross-entropy, backward, gradient clipping at 1, AdamW) with every layer
training or only the top blocks (the rest frozen and in eval mode, as goodfit freezes
them); prints the median seconds as JSON.

    .venv-bench/bin/python benches/images/bench_torch.py [BATCH] [TOP_BLOCKS|all] [efficientnet_lite0|resnet18]
"""
import json
import pathlib
import statistics
import sys
import time

import timm
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

torch.set_num_threads(2)
ROOT = pathlib.Path(__file__).resolve().parents[2]
BATCH = int(sys.argv[1]) if len(sys.argv) > 1 else 32
TOP = sys.argv[2] if len(sys.argv) > 2 else "all"
ARCH = sys.argv[3] if len(sys.argv) > 3 else "efficientnet_lite0"

torch.manual_seed(0)
net = timm.create_model(ARCH, drop_rate=0.0)
if ARCH == "efficientnet_lite0":
    net.load_state_dict(load_file(str(ROOT / "models/efficientnet-lite0/model.safetensors")), strict=False)
net.reset_classifier(2)
x = torch.randn(BATCH, 3, 224, 224, generator=torch.Generator().manual_seed(0))
y = torch.arange(BATCH) % 2


def timed(step, n=5, warmup=2):
    for _ in range(warmup):
        step()
    seconds = []
    for _ in range(n):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


net.eval()
with torch.no_grad():
    inference = timed(lambda: net(x))

# Blocks as goodfit counts them: EfficientNet's 16 blocks, then conv_head + bn2; ResNet's
# residual blocks. Below them, the stem.
if ARCH == "efficientnet_lite0":
    blocks = [b for stage in net.blocks for b in stage] + [torch.nn.ModuleList([net.conv_head, net.bn2])]
    stem, head = [net.conv_stem, net.bn1], net.classifier
else:
    blocks = [b for stage in [net.layer1, net.layer2, net.layer3, net.layer4] for b in stage]
    stem, head = [net.conv1, net.bn1], net.fc
trainable = list(net.parameters())
if TOP != "all":
    top = int(TOP)
    for p in net.parameters():
        p.requires_grad_(False)
    chosen = blocks[len(blocks) - top:] + [head]
    trainable = [p for m in chosen for p in m.parameters()]
    for p in trainable:
        p.requires_grad_(True)
optimizer = torch.optim.AdamW(trainable, lr=1e-4)


def train_step():
    net.train()
    if TOP != "all":
        # Frozen blocks keep their running statistics, as goodfit's do.
        for m in stem + blocks[: len(blocks) - int(TOP)]:
            m.eval()
    loss = F.cross_entropy(net(x), y)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trainable, 1.0)
    optimizer.step()


train = timed(train_step)
print(json.dumps({"arch": ARCH, "batch": BATCH, "train_blocks": TOP, "inference_s": inference,
                  "train_step_s": train}))
