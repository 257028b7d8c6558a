/**
 * Hugging Face's Qwen2 tokenizer (Qwen2TokenizerFast's tokenizer.json: NFC normalizer, the Qwen2 split
 * regex, byte-level BPE with the GGUF's merges, control tokens as special added tokens) rebuilt from
 * a Qwen2 GGUF vocabulary with @huggingface/tokenizers, independent of llama.cpp.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { readGguf } from '../../src/gguf/reader.js';
import type { GgufValue } from '../../src/gguf/types.js';

const QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const CONTROL = 3;

export async function hfQwen2Tokenizer(vocabPath: string): Promise<{ encode(text: string): number[] }> {
  const meta = (await readGguf(vocabPath)).metadata;
  const array = (key: string) => (meta.get(key) as Extract<GgufValue, { value: unknown[] }>).value;
  const pieces = array('tokenizer.ggml.tokens').map(String);
  const types = array('tokenizer.ggml.token_type').map(Number);
  const vocab: Record<string, number> = {};
  pieces.forEach((p, i) => (vocab[p] = i));
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: pieces.flatMap((content, id) => (types[id] === CONTROL ? [{ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }] : [])),
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: QWEN2_SPLIT }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
      ],
    },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: array('tokenizer.ggml.merges').map(String) },
  };
  const tokenizer = new Tokenizer(json, {});
  return { encode: (text) => (text === '' ? [] : tokenizer.encode(text, { add_special_tokens: false }).ids) };
}
