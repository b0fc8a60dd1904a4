"""Makes the DistilBERT parity fixture (crates/goodfit/tests/fixtures/distilbert_tiny/ and
distilbert_reference.json): a randomly initialised DistilBertForSequenceClassification
saved by transformers (config.json, model.safetensors) with a small WordPiece tokenizer,
and its logits on a few texts.

    scripts/torch-python.sh is sourced for a Python with torch and transformers:
    . scripts/torch-python.sh && $python scripts/make_distilbert_fixture.py
"""
import json
import pathlib
import sys

import torch
import transformers
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import DistilBertConfig, DistilBertForSequenceClassification, PreTrainedTokenizerFast

ROOT = pathlib.Path(__file__).resolve().parent.parent / "crates/goodfit/tests/fixtures"
OUT = ROOT / "distilbert_tiny"
WORDS = ("great tea lovely cake good fresh bread tasty soup buy again love this coffee very "
         "the was and awful stale bland never terrible hate not bad").split()
TEXTS = [
    "great tea",
    "the cake was lovely and the bread was fresh",
    "awful coffee , never again",
    "not bad",
    "hate this stale bland soup",
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ",", "!"] + sorted(set(WORDS))
    tokenizer = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    tokenizer.save(str(OUT / "tokenizer.json"))
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="[PAD]")

    torch.manual_seed(0)
    config = DistilBertConfig(vocab_size=len(vocab), dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                              max_position_embeddings=40, num_labels=3, pad_token_id=0)
    model = DistilBertForSequenceClassification(config).eval()
    # Far from the initialisation's near-zero weights, so every part shows in the logits.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "layer_norm" in name.lower() and name.endswith("weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
    model.save_pretrained(OUT)

    batch = fast(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**batch, output_hidden_states=True)
    reference = {
        "made_with": f"transformers {transformers.__version__}, torch {torch.__version__}",
        "texts": TEXTS,
        "input_ids": batch["input_ids"].tolist(),
        "attention_mask": batch["attention_mask"].tolist(),
        "cls_state": out.hidden_states[-1][:, 0, :].tolist(),
        "logits": out.logits.tolist(),
    }
    (ROOT / "distilbert_reference.json").write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {OUT} and distilbert_reference.json", file=sys.stderr)


if __name__ == "__main__":
    main()
