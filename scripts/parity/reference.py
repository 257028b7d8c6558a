"""Reference embeddings for `npm run parity`: an independent float64 numpy BERT forward pass over a
Hugging Face safetensors checkpoint, tokenized by the Hugging Face `tokenizers` library.

usage: python reference.py <request.json> <response.json>
  request:  {"checkpoint": dir, "max_length": 512, "texts": [str, ...]}
            or {"checkpoint": dir, "token_ids": [[int, ...], ...]} to embed given ids as they are
  response: {"ids": [[int]], "cls": [[float]], "mean": [[float]], "tokenizers_version": str}
            cls / mean: last hidden state of [CLS] / average over all tokens, L2-normalized.
"""
import json
import os
import sys

import numpy as np
import tokenizers
from safetensors.numpy import load_file
from tokenizers import Tokenizer


def erf(x):
    # Complementary error function by Chebyshev fit (fractional error below 1.2e-7 everywhere);
    # numpy has no erf and BERT's "gelu" is the exact erf form, not the tanh approximation.
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (
        0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    erfc = t * np.exp(-z * z + poly)
    return np.where(x >= 0, 1.0 - erfc, erfc - 1.0)


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def layer_norm(x, w, b, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


class Bert:
    def __init__(self, checkpoint):
        with open(os.path.join(checkpoint, "config.json"), encoding="utf-8") as f:
            cfg = json.load(f)
        if cfg.get("hidden_act", "gelu") != "gelu":
            raise SystemExit(f"reference.py: hidden_act {cfg['hidden_act']} is not implemented")
        raw = load_file(os.path.join(checkpoint, "model.safetensors"))
        self.w = {(k[5:] if k.startswith("bert.") else k): v.astype(np.float64) for k, v in raw.items()}
        self.layers = cfg["num_hidden_layers"]
        self.heads = cfg["num_attention_heads"]
        self.eps = cfg.get("layer_norm_eps", 1e-12)

    def linear(self, x, name):
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def norm(self, x, name):
        return layer_norm(x, self.w[name + ".weight"], self.w[name + ".bias"], self.eps)

    def forward(self, ids):
        w = self.w
        n = len(ids)
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = self.norm(x, "embeddings.LayerNorm")
        hidden = x.shape[1]
        d = hidden // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q = self.linear(x, p + "attention.self.query").reshape(n, self.heads, d).transpose(1, 0, 2)
            k = self.linear(x, p + "attention.self.key").reshape(n, self.heads, d).transpose(1, 0, 2)
            v = self.linear(x, p + "attention.self.value").reshape(n, self.heads, d).transpose(1, 0, 2)
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(d)
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            ctx = (probs @ v).transpose(1, 0, 2).reshape(n, hidden)
            x = self.norm(x + self.linear(ctx, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            ff = self.linear(gelu(self.linear(x, p + "intermediate.dense")), p + "output.dense")
            x = self.norm(x + ff, p + "output.LayerNorm")
        return x


def unit(v):
    return (v / np.linalg.norm(v)).tolist()


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        req = json.load(f)
    tok = Tokenizer.from_file(os.path.join(req["checkpoint"], "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=req.get("max_length", 512))
    model = Bert(req["checkpoint"])
    out = {"ids": [], "cls": [], "mean": [], "tokenizers_version": tokenizers.__version__}
    given = req.get("token_ids")
    for ids in given if given is not None else (tok.encode(text).ids for text in req["texts"]):
        h = model.forward(np.array(ids))
        out["ids"].append(ids)
        out["cls"].append(unit(h[0]))
        out["mean"].append(unit(h.mean(axis=0)))
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
