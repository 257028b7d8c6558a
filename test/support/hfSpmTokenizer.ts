/**
 * Hugging Face's Llama/Mistral tokenizer (LlamaTokenizerFast, legacy tokenizer.json as Mistral-7B-v0.1
 * and bge-en-icl ship it) rebuilt from a SentencePiece GGUF vocabulary, independent of llama.cpp:
 * - tokenize: @huggingface/tokenizers with a tokenizer.json made the way transformers' LlamaConverter
 *   makes it (BPE whose merges come from the pieces and their scores, byte_fallback, normalizer
 *   Prepend("▁") + Replace(" " → "▁"), control tokens as special added tokens, matched in any text);
 * - decode: the tokenizer.json decoder chain (Replace, ByteFallback, Fuse, Strip) with the semantics
 *   of the Rust `tokenizers` crate that Python runs (a non-UTF-8 byte run becomes one U+FFFD per
 *   byte); tokenizers.js decodes such runs with a lenient TextDecoder instead, so that step is here.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { readGguf } from '../../src/gguf/reader.js';
import type { GgufValue } from '../../src/gguf/types.js';

const CONTROL = 3;
const UNKNOWN = 2;

export interface HfSpmTokenizer {
  /** add_special_tokens=False: content ids; added tokens matched wherever they appear. */
  encode(text: string): number[];
  /** batch_decode default options: skip_special_tokens=False, clean_up_tokenization_spaces=False. */
  decode(ids: readonly number[]): string;
  pieces: string[];
  id(piece: string): number;
}

export interface SpmVocab {
  pieces: string[];
  scores: number[];
  types: number[];
}

export async function readSpmVocabArrays(path: string): Promise<SpmVocab> {
  const meta = (await readGguf(path)).metadata;
  const array = (key: string) => (meta.get(key) as Extract<GgufValue, { value: unknown[] }>).value;
  return { pieces: array('tokenizer.ggml.tokens').map(String), scores: array('tokenizer.ggml.scores').map(Number), types: array('tokenizer.ggml.token_type').map(Number) };
}

/** SentencePieceExtractor.extract: every split of a piece into two pieces, ordered by the piece's score. */
function extractMerges(pieces: string[], scores: number[]): Array<[string, string]> {
  const ids = new Map(pieces.map((p, i) => [p, i]));
  const merges: Array<{ left: string; right: string; score: number }> = [];
  pieces.forEach((piece, id) => {
    const local: Array<{ left: string; right: string; score: number }> = [];
    const chars = Array.from(piece);
    for (let k = 1; k < chars.length; k++) {
      const left = chars.slice(0, k).join('');
      const right = chars.slice(k).join('');
      if (ids.has(left) && ids.has(right)) local.push({ left, right, score: scores[id] });
    }
    local.sort((a, b) => ids.get(a.left)! - ids.get(b.left)! || ids.get(a.right)! - ids.get(b.right)!);
    merges.push(...local);
  });
  merges.sort((a, b) => b.score - a.score); // stable, like Python's sorted(reverse=True)
  return merges.map((m) => [m.left, m.right]);
}

export function hfSpmTokenizer(vocab: SpmVocab): HfSpmTokenizer {
  const { pieces, scores, types } = vocab;
  const vocabMap: Record<string, number> = {};
  pieces.forEach((p, i) => (vocabMap[p] = i));
  const special = pieces.map((_, i) => i).filter((i) => types[i] === CONTROL || types[i] === UNKNOWN);
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((id) => ({ id, content: pieces[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab: vocabMap, merges: extractMerges(pieces, scores) },
  };
  const tokenizer = new Tokenizer(json, { clean_up_tokenization_spaces: false });
  return {
    encode: (text) => (text === '' ? [] : tokenizer.encode(text, { add_special_tokens: false }).ids),
    decode: (ids) => rustDecode(ids.map((i) => pieces[i])),
    pieces,
    id(piece) {
      const found = vocabMap[piece];
      if (found === undefined) throw new Error(`piece ${JSON.stringify(piece)} is not in the vocabulary`);
      return found;
    },
  };
}

/** decoders.Sequence([Replace("▁", " "), ByteFallback(), Fuse(), Strip(" ", 1, 0)]) as tokenizers (Rust) runs it. */
export function rustDecode(tokens: string[]): string {
  const replaced = tokens.map((t) => t.replaceAll('▁', ' '));
  const out: string[] = [];
  let run: number[] = [];
  const flush = () => {
    if (run.length === 0) return;
    const bytes = Buffer.from(run);
    const text = bytes.toString('utf8');
    // Rust's String::from_utf8 fails on any invalid sequence; a lossless round trip means valid
    out.push(Buffer.from(text, 'utf8').equals(bytes) ? text : '\uFFFD'.repeat(run.length));
    run = [];
  };
  for (const token of replaced) {
    const byte = token.length === 6 && token.startsWith('<0x') && token.endsWith('>') ? Number.parseInt(token.slice(3, 5), 16) : NaN;
    if (!Number.isNaN(byte)) run.push(byte);
    else {
      flush();
      out.push(token);
    }
  }
  flush();
  const fused = out.join('');
  return fused.startsWith(' ') ? fused.slice(1) : fused;
}
