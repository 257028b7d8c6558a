"""FlagEmbedding's own classes as the reference for `npm run parity -- --reference flagembedding`.

usage: python flagembedding_reference.py <request.json> <response.json>
  request:  {"kind": "encoder", "checkpoint": dir, "pooling": "cls"|"mean", "instruction": str,
             "queries": [str], "passages": [str], "max_length": 512}
            {"kind": "icl", "checkpoint": dir, "task": str, "examples": [{instruct, query, response}] | null,
             "queries": [str], "passages": [str], "query_max_length": int, "passage_max_length": int}
            {"kind": "tokenize", "tokenizer": dir-or-tokenizer.json, "texts": [str]}  (Rust tokenizers, no specials)
  response: {"queries": {"ids": [[int]], "vectors": [[float]]}, "passages": {...}, "versions": {...}}

ICL texts are encoded alone (a list of one), so the prompt ids FlagICLModel feeds the model are read
from a forward pre-hook without depending on its length-sorted batching.
"""
import json
import os
import sys

os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch  # noqa: E402

torch.set_num_threads(2)


def capture_ids(hf_model):
    seen = []

    def hook(_module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        mask = kwargs.get("attention_mask")
        row = ids[0] if mask is None else ids[0][mask[0].bool()]
        seen.append([int(x) for x in row])

    hf_model.register_forward_pre_hook(hook, with_kwargs=True)
    return seen


def encode_each(encode, texts, seen):
    ids, vectors = [], []
    for text in texts:
        seen.clear()
        v = encode([text])
        ids.append(seen[-1])
        vectors.append([float(x) for x in v[0]])
    return {"ids": ids, "vectors": vectors}


def versions():
    import FlagEmbedding
    import tokenizers
    import transformers

    return {"flagembedding": getattr(FlagEmbedding, "__version__", "1.4.2"), "transformers": transformers.__version__,
            "tokenizers": tokenizers.__version__, "torch": torch.__version__}


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        req = json.load(f)
    out = {"versions": versions()}
    if req["kind"] == "tokenize":
        from tokenizers import Tokenizer

        path = req["tokenizer"]
        tok = Tokenizer.from_file(path if path.endswith(".json") else os.path.join(path, "tokenizer.json"))
        tok.no_padding()
        tok.no_truncation()
        out["ids"] = [e.ids for e in tok.encode_batch(req["texts"], add_special_tokens=False)]
    elif req["kind"] == "encoder":
        from FlagEmbedding import FlagModel

        model = FlagModel(req["checkpoint"], pooling_method=req["pooling"], normalize_embeddings=True, use_fp16=False,
                          query_instruction_for_retrieval=req.get("instruction"), devices="cpu",
                          query_max_length=req["max_length"], passage_max_length=req["max_length"])
        # Batched (one text at a time is ~50x slower); the ids are the tokenizer call FlagModel's
        # encode makes for encoder-only models, on the texts with the instruction applied.
        for side, texts, encode, prefix in (("queries", req["queries"], model.encode_queries, req.get("instruction") or ""),
                                            ("passages", req["passages"], model.encode_corpus, "")):
            vectors = encode(texts)
            ids = model.tokenizer([prefix + t for t in texts], max_length=req["max_length"], truncation=True)["input_ids"]
            out[side] = {"ids": [list(map(int, x)) for x in ids], "vectors": [[float(v) for v in row] for row in vectors]}
    elif req["kind"] == "icl":
        from FlagEmbedding import FlagICLModel

        model = FlagICLModel(req["checkpoint"], query_instruction_for_retrieval=req["task"],
                             examples_for_task=req.get("examples"), use_fp16=False, devices="cpu",
                             query_max_length=req["query_max_length"], passage_max_length=req["passage_max_length"])
        seen = capture_ids(model.model)
        out["queries"] = encode_each(model.encode_queries, req["queries"], seen)
        out["passages"] = encode_each(model.encode_corpus, req["passages"], seen)
    else:
        raise SystemExit(f"unknown kind {req['kind']}")
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
