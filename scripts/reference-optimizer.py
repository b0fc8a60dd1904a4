#!/usr/bin/env python3
"""Reference numbers for crates/goodfit/src/train/{optimizer,schedule}.rs tests.

Prints Rust constants to paste into those tests:

* "adamw": torch.optim.AdamW (single-tensor CPU path, foreach=False) on three small
  float32 parameters in two parameter groups with different learning rates and weight
  decays, driven by fixed gradients over 5 steps with a per-step learning-rate factor
  (as a schedule would apply it); parameter `b` has no gradient (``.grad = None``) at
  steps 2 and 4, so torch skips it and its own step count lags.
* "clip": torch.nn.utils.clip_grad_norm_ on the step-1 gradients.
* "schedules": transformers' schedule lambdas (transcribed below from
  transformers/optimization.py, which is too heavy to install just for this).

Needs PyTorch (pip install torch numpy). Numbers in the tests were produced with
torch 2.15.0 (the PyPI wheel, run on the CPU) and Python 3.11:

    python3 scripts/reference-optimizer.py
"""

import math

import numpy as np
import torch

STEPS = 5
LR_FACTORS = [0.5, 1.0, 0.75, 0.25, 1.0]
# (group name, lr, weight_decay, [(param name, shape)])
GROUPS = [
    ("encoder", 0.01, 0.1, [("a", (2, 3)), ("b", (4,))]),
    ("head", 0.05, 0.0, [("c", (3,))]),
]
# Steps (1-based) at which a parameter has no gradient.
NO_GRAD = {"b": {2, 4}}


def init_value(pi, i):
    return round(math.sin(0.9 * i + 1.7 * pi + 0.3), 4)


def grad_value(pi, i, step):
    # Mix scales (x10 and x0.001) so eps and bias corrections matter.
    scale = [1.0, 10.0, 0.001][(i + step) % 3]
    return round(math.cos(1.3 * i + 0.7 * step + 2.1 * pi) * scale, 6)


def f32(x):
    # The shortest decimal that reads back as the same float32.
    return str(np.float32(torch.tensor(x, dtype=torch.float32).item()))


def rust_array(name, values, ty="f32"):
    body = ", ".join(f32(v) if ty == "f32" else repr(v) for v in values)
    return f"const {name}: [{ty}; {len(values)}] = [{body}];"


def adamw():
    params = {}
    torch_groups = []
    for gi, (gname, lr, wd, plist) in enumerate(GROUPS):
        ps = []
        for name, shape in plist:
            pi = len(params)
            n = math.prod(shape)
            p = torch.tensor(
                [init_value(pi, i) for i in range(n)], dtype=torch.float32
            ).reshape(shape)
            p.requires_grad_(True)
            params[name] = (pi, p)
            ps.append(p)
        torch_groups.append({"params": ps, "lr": lr, "weight_decay": wd})
    base_lrs = [g[1] for g in GROUPS]
    opt = torch.optim.AdamW(
        torch_groups, betas=(0.9, 0.999), eps=1e-8, foreach=False, fused=False
    )

    print("// Initial values.")
    for name, (pi, p) in params.items():
        print(rust_array(f"INIT_{name.upper()}", p.detach().flatten().tolist()))
    print(rust_array("LR_FACTORS", LR_FACTORS, ty="f64"))
    print("// Gradients, step-major (a step's gradient is absent where NO_GRAD says).")
    for name, (pi, p) in params.items():
        vals = []
        for step in range(1, STEPS + 1):
            vals += [grad_value(pi, i, step) for i in range(p.numel())]
        print(rust_array(f"GRAD_{name.upper()}", vals))
    expected = {name: [] for name in params}
    for step in range(1, STEPS + 1):
        for g, base in zip(opt.param_groups, base_lrs):
            # What LambdaLR does: lr = base_lr * lambda(step index).
            g["lr"] = base * LR_FACTORS[step - 1]
        for name, (pi, p) in params.items():
            if step in NO_GRAD.get(name, ()):
                p.grad = None
            else:
                g = [grad_value(pi, i, step) for i in range(p.numel())]
                p.grad = torch.tensor(g, dtype=torch.float32).reshape(p.shape)
        opt.step()
        for name, (pi, p) in params.items():
            expected[name] += p.detach().flatten().tolist()
    print("// Parameter values after each step, step-major.")
    for name, vals in expected.items():
        print(rust_array(f"EXPECTED_{name.upper()}", vals))
    print(
        "// torch's per-parameter step counts: "
        + ", ".join(f"{n}={int(opt.state[p]['step'])}" for n, (_, p) in params.items())
    )


def clip():
    grads = []
    for name, (pi, shape) in zip(["a", "b", "c"], [(0, 6), (1, 4), (2, 3)]):
        p = torch.zeros(shape, requires_grad=True)
        p.grad = torch.tensor(
            [grad_value(pi, i, 1) for i in range(shape)], dtype=torch.float32
        )
        grads.append(p)
    total = torch.nn.utils.clip_grad_norm_(grads, max_norm=1.0, foreach=False)
    print(f"const CLIP_TOTAL_NORM: f64 = {float(total)!r}; // float32 in torch")
    print(
        rust_array(
            "CLIP_GRADS", sum((p.grad.flatten().tolist() for p in grads), [])
        )
    )


# --- transformers/optimization.py, transcribed -------------------------------------


def linear_lambda(current_step, *, num_warmup_steps, num_training_steps):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    return max(
        0.0,
        float(num_training_steps - current_step)
        / float(max(1, num_training_steps - num_warmup_steps)),
    )


def cosine_lambda(current_step, *, num_warmup_steps, num_training_steps, num_cycles=0.5):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    progress = float(current_step - num_warmup_steps) / float(
        max(1, num_training_steps - num_warmup_steps)
    )
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))


def constant_lambda(current_step, *, num_warmup_steps):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1.0, num_warmup_steps))
    return 1.0


def schedules():
    steps = [0, 1, 5, 9, 10, 11, 37, 99, 100, 120]
    kw = dict(num_warmup_steps=10, num_training_steps=100)
    print(f"// steps {steps}, warm-up 10, total 100")
    for name, fn in [
        ("LINEAR", lambda s: linear_lambda(s, **kw)),
        ("COSINE", lambda s: cosine_lambda(s, **kw)),
        ("CONSTANT", lambda s: constant_lambda(s, num_warmup_steps=10)),
    ]:
        print(rust_array(name, [fn(s) for s in steps], ty="f64"))
    # TrainingArguments.get_warmup_steps: math.ceil(num_training_steps * warmup_ratio)
    for ratio, total in [(0.07, 100), (0.1, 1000), (0.06, 250), (0.1, 3)]:
        print(f"// ceil({total} * {ratio}) = {math.ceil(total * ratio)}")


if __name__ == "__main__":
    torch.set_printoptions(precision=10)
    print(f"// torch {torch.__version__}")
    print("// --- adamw ---")
    adamw()
    print("// --- clip ---")
    clip()
    print("// --- schedules ---")
    schedules()
