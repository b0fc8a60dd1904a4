"""Baselines for the long-tailed Fashion-MNIST example (examples/fashion_mnist_lt), on its
test folder (100 images per class from the package's test file):

1. logistic regression (scikit-learn, lbfgs, max_iter 2000), plain and class-balanced, on
   the pooled 1,280 features of frozen EfficientNet-Lite0 (timm, the ImageNet weights of
   models/efficientnet-lite0);
2. a plain PyTorch fine-tune of every layer: timm's efficientnet_lite0 with a new
   10-class classifier, AdamW lr 3e-4, batch 32, 5 epochs, random horizontal flips,
   cross-entropy.

Pictures are read with PIL, turned to RGB, resized to 224 (bilinear) and normalised with
mean = std = 0.5, as goodfit reads them. Prints one JSON object. 2 threads.

    .venv-bench/bin/python benches/images/baselines.py [SEED]
"""
import json
import pathlib
import sys
import time

import numpy as np
import timm
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import load_file
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

torch.set_num_threads(2)
ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "examples/fashion_mnist_lt"
SEED = int(sys.argv[1]) if len(sys.argv) > 1 else 42


def folder(split):
    classes = sorted(p.name for p in (DATA / split).iterdir() if p.is_dir())
    paths, labels = [], []
    for c, name in enumerate(classes):
        for path in sorted((DATA / split / name).glob("*.png")):
            paths.append(path)
            labels.append(c)
    pixels = np.stack([np.asarray(Image.open(p).convert("RGB").resize((224, 224), Image.BILINEAR),
                                  dtype=np.float32) / 255.0 for p in paths])
    x = torch.tensor((pixels - 0.5) / 0.5).permute(0, 3, 1, 2).contiguous()
    return x, torch.tensor(labels), classes


def model(classes):
    m = timm.create_model("efficientnet_lite0", drop_rate=0.2)
    m.load_state_dict(load_file(str(ROOT / "models/efficientnet-lite0/model.safetensors")), strict=False)
    if classes:
        m.reset_classifier(classes)
    return m


def main():
    torch.manual_seed(SEED)
    train_x, train_y, names = folder("train")
    test_x, test_y, _ = folder("test")
    out = {"seed": SEED, "train": len(train_y), "test": len(test_y)}

    start = time.time()
    backbone = model(0).eval()
    with torch.no_grad():
        features = lambda x: torch.cat([backbone(b) for b in x.split(64)]).numpy()
        f_train, f_test = features(train_x), features(test_x)
    for name, weight in [("logreg", None), ("logreg_balanced", "balanced")]:
        clf = LogisticRegression(max_iter=2000, class_weight=weight).fit(f_train, train_y.numpy())
        out[name] = f1_score(test_y.numpy(), clf.predict(f_test), average="macro")
    out["logreg_seconds"] = time.time() - start

    start = time.time()
    net = model(len(names))
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-4)
    generator = torch.Generator().manual_seed(SEED)
    for epoch in range(5):
        net.train()
        order = torch.randperm(len(train_y), generator=generator)
        for batch in order.split(32):
            x = train_x[batch]
            flip = torch.rand(len(batch), generator=generator) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            loss = F.cross_entropy(net(x), train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    net.eval()
    with torch.no_grad():
        predicted = torch.cat([net(b).argmax(1) for b in test_x.split(64)])
    out["torch_finetune_all"] = f1_score(test_y.numpy(), predicted.numpy(), average="macro")
    out["torch_finetune_seconds"] = time.time() - start
    print(json.dumps(out))


if __name__ == "__main__":
    main()
