"""HF's XLMRobertaTokenizerFast tokenization (the Rust `tokenizers` library) rebuilt from a UGM GGUF's
tokenizer.ggml.* metadata, read with llama.cpp's gguf-py: Unigram over the vocabulary and scores,
Precompiled normalizer from the charsmap, Replace(" {2,}", " "), Metaspace("▁", prepend "always").
This is how transformers' XLMRobertaConverter builds tokenizer.json from sentencepiece.bpe.model.

usage: xlmr-hf-tokenize.py <gguf-py dir> <vocab.gguf> <texts.json> <out.json>
Writes, per text, the ids without special tokens.
"""
import json
import sys

sys.path.insert(0, sys.argv[1])
import gguf  # noqa: E402
from tokenizers import Regex, Tokenizer, AddedToken, models, normalizers, pre_tokenizers  # noqa: E402


def field(reader, key):
    f = reader.fields[key]
    return [f.parts[i] for i in f.data]


def main():
    _, _, vocab_path, texts_path, out_path = sys.argv
    reader = gguf.GGUFReader(vocab_path)
    tokens = [bytes(p).decode("utf-8") for p in field(reader, "tokenizer.ggml.tokens")]
    scores = [float(p[0]) for p in field(reader, "tokenizer.ggml.scores")]
    types = [int(p[0]) for p in field(reader, "tokenizer.ggml.token_type")]
    charsmap = b"".join(bytes(p) for p in field(reader, "tokenizer.ggml.precompiled_charsmap"))
    # XLM-R has 250002 tokens (the nomic file pads with unused [PAD] entries, never produced)
    keep = [i for i, t in enumerate(types) if t != 5] if len(tokens) > 250002 else range(len(tokens))
    vocab = [(tokens[i], scores[i]) for i in keep]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.add_special_tokens([AddedToken(t, special=True) for i, t in enumerate(tokens[:len(vocab)]) if types[i] == 3])
    texts = json.load(open(texts_path, encoding="utf-8"))
    encoded = tok.encode_batch(texts, add_special_tokens=False)
    json.dump([e.ids for e in encoded], open(out_path, "w"))


main()
