"""Makes crates/goodfit/tests/fixtures/resnet_reference.json, the ResNet parity fixture:

- max_pool: torch.nn.functional.max_pool2d (3x3 stride 2 padding 1 as ResNet's stem, and
  two other windows) on random inputs, some with ties: the output and the gradient of
  sum(y * r) for a fixed random r.
- resnet18: torchvision's resnet18 with weights drawn from a counter-based generator that
  the Rust test repeats (so the fixture holds no weights): splitmix64 of a running element
  counter over the state dict in order (num_batches_tracked skipped), the top 24 bits as a
  uniform u in [0, 1), then per kind of entry (computed in float64, stored as float32):
  convolutions (2u - 1) * sqrt(3 / fan_in); BatchNorm weights and running variances
  0.5 + u; BatchNorm biases and running means (2u - 1) * 0.2; fc (2u - 1) / sqrt(fan_in).
  In float64: the evaluation logits of scikit-image's chelsea and coffee (224 pixels, the
  images/ fixtures, ImageNet's mean and std), then one training step (train mode: batch
  statistics) with cross-entropy against classes 285 and 967: the loss, some gradients
  (their first 1,024 values and their norm) and running statistics after it.
- resnet50: the same generator and photos, evaluation logits only (the bottleneck blocks).

    . scripts/torch-python.sh && $python -m pip install torchvision pillow && \\
        $python scripts/make_resnet_fixtures.py
"""
import json
import pathlib

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent / "crates/goodfit/tests/fixtures"
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def splitmix64(index):
    with np.errstate(over="ignore"):
        z = index + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def uniform(start, n):
    bits = splitmix64(np.arange(start, start + n, dtype=np.uint64)) >> np.uint64(40)
    return bits.astype(np.float64) / float(1 << 24)


def generated_state(model):
    state, counter, names = {}, 0, []
    for name, tensor in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            state[name] = tensor
            continue
        n = tensor.numel()
        u = uniform(counter, n)
        counter += n
        if tensor.dim() == 4:
            values = (2 * u - 1) * np.sqrt(3.0 / (tensor.shape[1] * tensor.shape[2] * tensor.shape[3]))
        elif name.startswith("fc."):
            values = (2 * u - 1) / np.sqrt(model.fc.in_features)
        elif name.endswith("running_var") or name.endswith(".weight"):
            values = 0.5 + u
        else:
            values = (2 * u - 1) * 0.2
        state[name] = torch.tensor(values.astype(np.float32)).reshape(tensor.shape)
        if not name.startswith("fc."):
            names.append(name)
    return state, names


def photos():
    images = []
    for name in ["chelsea", "coffee"]:
        pixels = np.asarray(Image.open(ROOT / f"images/{name}.png").convert("RGB"), dtype=np.float32) / 255.0
        images.append(torch.tensor((pixels - MEAN) / STD).permute(2, 0, 1))
    return torch.stack(images).double()


def max_pool_cases(gen):
    cases = []
    for shape, k, stride, padding, ties in [((2, 3, 7, 6), 3, 2, 1, False), ((1, 2, 8, 9), 3, 2, 1, True),
                                             ((2, 2, 6, 6), 2, 2, 0, False), ((1, 3, 5, 7), 3, 1, 1, True)]:
        x = torch.rand(shape, generator=gen) * 4 - 2
        if ties:  # a few levels, so windows hold equal maxima
            x = torch.round(x)
        x.requires_grad_()
        y = F.max_pool2d(x, k, stride, padding)
        r = torch.rand(y.shape, generator=gen) * 2 - 1
        (y * r).sum().backward()
        cases.append({"shape": list(shape), "k": k, "stride": stride, "padding": padding, "x": flat(x),
                      "r": flat(r), "y_shape": list(y.shape), "y": flat(y), "dx": flat(x.grad)})
    return cases


def resnet(arch, x, train_step):
    model = getattr(torchvision.models, arch)()
    state, names = generated_state(model)
    model.load_state_dict(state)
    model = model.double().eval()
    with torch.no_grad():
        logits = model(x)
    out = {"names": names, "eval_logits": [flat(row) for row in logits]}
    if not train_step:
        return out
    model.train()
    loss = F.cross_entropy(model(x), torch.tensor([285, 967]))
    loss.backward()
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())

    def summary(t):
        values = t.detach().reshape(-1)
        return {"first": flat(values[:1024]), "count": values.numel(), "norm": float(values.norm())}

    out["train_loss"] = float(loss.detach())
    out["grads"] = {name: summary(params[name].grad) for name in
                    ["conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight",
                     "layer2.0.downsample.1.bias", "layer3.1.bn2.weight", "layer4.1.conv2.weight",
                     "fc.weight", "fc.bias"]}
    out["running_after"] = {name: flat(buffers[name]) for name in
                            ["bn1.running_mean", "layer1.0.bn1.running_var", "layer4.0.downsample.1.running_var",
                             "layer4.1.bn2.running_mean"]}
    return out


def main():
    gen = torch.Generator().manual_seed(0)
    x = photos()
    ref = {"images": ["chelsea", "coffee"], "classes": [285, 967], "mean": MEAN.tolist(), "std": STD.tolist(),
           "max_pool": max_pool_cases(gen), "resnet18": resnet("resnet18", x, True),
           "resnet50": resnet("resnet50", x, False)}
    (ROOT / "resnet_reference.json").write_text(json.dumps(ref) + "\n")


if __name__ == "__main__":
    main()
