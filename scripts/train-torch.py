"""The recipe of `goodfit train`'s defaults as a plain PyTorch loop, for timing end to end
against goodfit (scripts/e2e-vs-torch.sh).

all-MiniLM-L6-v2 (transformers.AutoModel), mean pooling, a linear head; the top 2 layers
train (embeddings and the rest frozen with requires_grad=False); AdamW with weight decay
0.01 (none on biases and LayerNorm weights), lr 1e-4 for the encoder and 1e-3 for the head,
linear warm-up over 10% of the steps then linear decay, gradient clipping at 1; batch 16
with dynamic padding, texts truncated to 128 tokens; 3 epochs; a stratified 10% validation
split evaluated after each epoch; the test file scored at the end. Prints JSON: seconds,
test macro-F1.
Usage: python train-torch.py MODEL_DIR TRAIN.jsonl TEST.jsonl
"""
import json
import random
import sys
import time

import torch
from transformers import AutoModel, AutoTokenizer

torch.set_num_threads(int(__import__("os").environ.get("THREADS", "2")))
torch.manual_seed(42)
random.seed(42)
model_dir, train_path, test_path = sys.argv[1:4]
start = time.perf_counter()


def read(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8")]
    return [r["text"] for r in rows], [r["label"] for r in rows]


texts, labels = read(train_path)
test_texts, test_labels = read(test_path)
classes = sorted(set(labels))
y = [classes.index(l) for l in labels]
test_y = [classes.index(l) for l in test_labels]
by_class = {c: [i for i, t in enumerate(y) if t == c] for c in range(len(classes))}
val_idx = []
for c, rows in by_class.items():
    random.shuffle(rows)
    val_idx += rows[: round(len(rows) * 0.1)]
val_set = set(val_idx)
train_idx = [i for i in range(len(y)) if i not in val_set]

tokenizer = AutoTokenizer.from_pretrained(model_dir)
encoder = AutoModel.from_pretrained(model_dir, add_pooling_layer=False)
head = torch.nn.Linear(encoder.config.hidden_size, len(classes))
for p in encoder.embeddings.parameters():
    p.requires_grad_(False)
for layer in encoder.encoder.layer[:-2]:
    for p in layer.parameters():
        p.requires_grad_(False)


def batch(ids):
    enc = tokenizer([all_texts[i] for i in ids], truncation=True, max_length=128, padding=True, return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def forward(input_ids, mask):
    states = encoder(input_ids=input_ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).float()
    return head((states * m).sum(1) / m.sum(1).clamp(min=1e-9))


def macro_f1(true, pred):
    scores = []
    for c in range(len(classes)):
        tp = sum(t == c and p == c for t, p in zip(true, pred))
        denom = sum(t == c for t in true) + sum(p == c for p in pred)
        scores.append(2 * tp / denom if denom else 0.0)
    return sum(scores) / len(scores)


def evaluate(ids, targets):
    encoder.eval()
    head.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, len(ids), 64):
            preds += forward(*batch(ids[i : i + 64])).argmax(-1).tolist()
    return macro_f1(targets, preds)


all_texts = texts
named = [(n, p) for n, p in encoder.named_parameters() if p.requires_grad]
no_decay = lambda n: n.endswith("bias") or "LayerNorm" in n
optimizer = torch.optim.AdamW([
    {"params": [p for n, p in named if not no_decay(n)], "weight_decay": 0.01, "lr": 1e-4},
    {"params": [p for n, p in named if no_decay(n)], "weight_decay": 0.0, "lr": 1e-4},
    {"params": [head.weight], "weight_decay": 0.01, "lr": 1e-3},
    {"params": [head.bias], "weight_decay": 0.0, "lr": 1e-3},
])
epochs, bs = 3, 16
total = epochs * -(-len(train_idx) // bs)
warmup = int(0.1 * total)
schedule = torch.optim.lr_scheduler.LambdaLR(
    optimizer, lambda s: s / max(1, warmup) if s < warmup else max(0.0, (total - s) / max(1, total - warmup))
)
loss_fn = torch.nn.CrossEntropyLoss()
trainable = [p for _, p in named] + list(head.parameters())
for epoch in range(epochs):
    encoder.train()
    head.train()
    order = train_idx[:]
    random.shuffle(order)
    for i in range(0, len(order), bs):
        ids = order[i : i + bs]
        loss = loss_fn(forward(*batch(ids)), torch.tensor([y[j] for j in ids]))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        schedule.step()
    val_f1 = evaluate(val_idx, [y[i] for i in val_idx])
    print(f"epoch {epoch + 1}: val macro-F1 {val_f1:.4f}", file=sys.stderr)
all_texts = test_texts
test_f1 = evaluate(list(range(len(test_y))), test_y)
print(json.dumps({"seconds": time.perf_counter() - start, "test_f1_macro": test_f1}))
