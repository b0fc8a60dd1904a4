"""PyTorch's side of scripts/bench-vs-torch.sh: the same shapes as `goodfit bench`.

A BERT-family encoder from a Hugging Face folder (transformers.AutoModel), mean pooling and
a linear head; the bottom layers frozen as `--train-layers` says (requires_grad=False, so
backward skips them, as goodfit's constants do); AdamW with Hugging Face's parameter groups
(weight decay 0.01, none on biases and LayerNorm weights), gradient clipping at 1; dropout
on in training. Random token ids, no padding. Prints JSON with the keys of
`goodfit bench --json`.
"""
import argparse
import json
import resource
import time

import torch
from transformers import AutoModel

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--batch-size", type=int, default=16)
parser.add_argument("--seq-len", type=int, default=128)
parser.add_argument("--train-layers", default="all")
parser.add_argument("--steps", type=int, default=5)
parser.add_argument("--warmup", type=int, default=1)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
encoder = AutoModel.from_pretrained(args.model, add_pooling_layer=False)
hidden = encoder.config.hidden_size
head = torch.nn.Linear(hidden, 2)
layers = encoder.encoder.layer
if args.train_layers != "all":
    top = int(args.train_layers)
    for p in encoder.embeddings.parameters():
        p.requires_grad_(False)
    for layer in layers[: len(layers) - top]:
        for p in layer.parameters():
            p.requires_grad_(False)

vocab = encoder.config.vocab_size
ids = torch.randint(min(1000, vocab - 1), vocab, (args.batch_size, args.seq_len))
mask = torch.ones_like(ids)
targets = torch.arange(args.batch_size) % 2


def logits():
    states = encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).float()
    pooled = (states * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return head(pooled)


def peak_rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


inference = []
encoder.eval()
head.eval()
with torch.no_grad():
    for i in range(args.warmup + args.steps):
        start = time.perf_counter()
        logits().tolist()
        if i >= args.warmup:
            inference.append(time.perf_counter() - start)
after_inference = peak_rss()

named = [(n, p) for n, p in list(encoder.named_parameters()) + [("classifier." + n, p) for n, p in head.named_parameters()] if p.requires_grad]
no_decay = lambda n: n.endswith("bias") or "LayerNorm" in n
groups = [
    {"params": [p for n, p in named if not no_decay(n)], "weight_decay": 0.01},
    {"params": [p for n, p in named if no_decay(n)], "weight_decay": 0.0},
]
optimizer = torch.optim.AdamW(groups, lr=1e-4)
loss_fn = torch.nn.CrossEntropyLoss()
encoder.train()
head.train()
steps = []
for i in range(args.warmup + args.steps):
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    loss = loss_fn(logits(), targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_([p for _, p in named], 1.0)
    optimizer.step()
    if i >= args.warmup:
        steps.append(time.perf_counter() - start)

print(json.dumps({
    "threads": torch.get_num_threads(),
    "inference_seconds": inference,
    "train_step_seconds": steps,
    "peak_rss_after_inference": after_inference,
    "peak_rss_after_training": peak_rss(),
    "torch": torch.__version__,
}))
