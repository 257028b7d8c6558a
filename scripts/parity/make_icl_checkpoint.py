"""A tiny random Mistral checkpoint shaped like bge-en-icl, for `npm run parity -- --reference flagembedding`.

usage: python make_icl_checkpoint.py <vocab.gguf> <out-dir> [--added-tokens]

Writes a Hugging Face MistralForCausalLM checkpoint (safetensors, 2 layers, hidden 64, GQA 4/2
heads) whose tokenizer is a SentencePiece model built from the Llama vocabulary in <vocab.gguf>
(pieces, scores and types as llama.cpp stores them), loaded as LlamaTokenizerFast with
add_eos_token=True as bge-en-icl's tokenizer has it. --added-tokens: adds <instruct>, <query>,
<response> as additional special tokens (ids 32000-32002) and grows the embedding matrix to 32003
rows, as FlagEmbedding's ICL fine-tuning does. Weights are drawn with a fixed seed at a scale that
keeps different inputs apart (HF's 0.02 init makes every vector nearly the same).
"""
import os
import sys

import numpy as np
import torch

LLAMA_CPP_GGUF_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".llama", "llama.cpp", "gguf-py")
sys.path.insert(0, LLAMA_CPP_GGUF_PY)

from gguf import GGUFReader  # noqa: E402
from sentencepiece import sentencepiece_model_pb2 as spm_pb2  # noqa: E402
from transformers import LlamaTokenizerFast, MistralConfig, MistralForCausalLM  # noqa: E402

ADDED = ["<instruct>", "<query>", "<response>"]


def field(reader, key):
    f = reader.fields[key]
    return [f.parts[i] for i in f.data]


def sentencepiece_model(vocab_gguf):
    reader = GGUFReader(vocab_gguf)
    tokens = [bytes(p).decode("utf-8") for p in field(reader, "tokenizer.ggml.tokens")]
    scores = [float(p[0]) for p in field(reader, "tokenizer.ggml.scores")]
    types = [int(p[0]) for p in field(reader, "tokenizer.ggml.token_type")]
    m = spm_pb2.ModelProto()
    for piece, score, typ in zip(tokens, scores, types):
        sp = m.pieces.add()
        sp.piece, sp.score, sp.type = piece, score, typ  # llama.cpp's token types are SentencePiece's
    m.trainer_spec.model_type = spm_pb2.TrainerSpec.BPE
    m.trainer_spec.vocab_size = len(tokens)
    m.trainer_spec.byte_fallback = True
    m.trainer_spec.unk_id, m.trainer_spec.bos_id, m.trainer_spec.eos_id, m.trainer_spec.pad_id = 0, 1, 2, -1
    m.normalizer_spec.name = "identity"
    m.normalizer_spec.add_dummy_prefix = True
    m.normalizer_spec.remove_extra_whitespaces = False
    return m.SerializeToString(), len(tokens)


def main():
    vocab_gguf, out = sys.argv[1], sys.argv[2]
    added = "--added-tokens" in sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    spm_bytes, n_vocab = sentencepiece_model(vocab_gguf)
    spm_path = os.path.join(out, "tokenizer.model")
    with open(spm_path, "wb") as f:
        f.write(spm_bytes)
    # legacy + prefix space: the Llama/Mistral tokenizer.json form (Prepend + Replace normalizer); it gives
    # llama.cpp's ggml-vocab-llama-spm.gguf.inp/.out ids on all 46 vectors
    tok = LlamaTokenizerFast(vocab_file=spm_path, add_bos_token=True, add_eos_token=True, legacy=True, add_prefix_space=True)
    tok.pad_token = tok.unk_token  # FlagEmbedding pads batches; padding never reaches the compared ids
    if added:
        tok.add_special_tokens({"additional_special_tokens": ADDED})
    torch.manual_seed(20240917)
    config = MistralConfig(vocab_size=n_vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                           num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                           rms_norm_eps=1e-5, rope_theta=10000.0, sliding_window=None, tie_word_embeddings=False,
                           bos_token_id=1, eos_token_id=2)
    model = MistralForCausalLM(config)
    if added:
        model.resize_token_embeddings(len(tok))
    gen = torch.Generator().manual_seed(20240917)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=gen))
            else:
                p.copy_(0.25 * torch.randn(p.shape, generator=gen))
    model.config.architectures = ["MistralForCausalLM"]
    model.save_pretrained(out, safe_serialization=True)
    tok.save_pretrained(out)
    print(f"{out}: vocab {len(tok)}, embedding rows {model.get_input_embeddings().weight.shape[0]}")


if __name__ == "__main__":
    main()
