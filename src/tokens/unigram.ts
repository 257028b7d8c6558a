/**
 * XLM-RoBERTa's tokenizer as Hugging Face's XLMRobertaTokenizerFast runs it (tokenizer.json built
 * by transformers' XLMRobertaConverter): Precompiled normalizer (per grapheme cluster, see
 * precompiledCharsmap.ts), spaces runs collapsed, Metaspace ("▁" for spaces, one in front, split
 * before each "▁"), then a Unigram Viterbi per piece over the vocabulary scores, unknown characters
 * as one fused <unk>. llama.cpp's UGM tokenizer normalizes by longest byte prefix over the whole
 * text instead, which differs on decomposed and combining sequences; this one matches HF.
 */
import { CorruptModelError } from '../errors.js';
import type { Engine, TokenizeOptions } from '../runtime/types.js';
import { hfPrecompiledNormalize, PrecompiledCharsmap } from './precompiledCharsmap.js';
import { specialTokens } from './truncate.js';

const NORMAL = 1;
const UNK_PENALTY = 10; // HF Unigram's kUnkPenalty
const META = '\u2581';

export interface UnigramVocab {
  tokens: readonly string[];
  scores: readonly number[];
  /** llama.cpp token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte. */
  types: readonly number[];
  charsmap: Uint8Array | null;
  unkId: number;
  /** The GGUF's path, named by the CorruptModelError a malformed charsmap raises. */
  source?: string;
}

export class UnigramTokenizer {
  private readonly pieces = new Map<string, number>();
  private readonly maxPieceChars: number;
  private readonly unkScore: number;
  private readonly charsmap: PrecompiledCharsmap | null;
  private readonly scores: readonly number[];
  private readonly unkId: number;

  constructor(vocab: UnigramVocab) {
    let maxChars = 1;
    let minScore = Infinity;
    vocab.tokens.forEach((token, id) => {
      const type = vocab.types[id];
      if (type === 5) return; // unused padding entries are not part of the HF vocabulary
      minScore = Math.min(minScore, vocab.scores[id]);
      if (type !== NORMAL && type !== 4) return; // control and unknown tokens never match text
      if (!this.pieces.has(token)) this.pieces.set(token, id);
      maxChars = Math.max(maxChars, [...token].length);
    });
    this.maxPieceChars = maxChars;
    this.unkScore = minScore - UNK_PENALTY;
    this.scores = vocab.scores;
    this.unkId = vocab.unkId;
    this.charsmap = vocab.charsmap ? new PrecompiledCharsmap(vocab.charsmap, vocab.source) : null;
  }

  /** Ids without special tokens. */
  tokenize(text: string): Int32Array {
    let normalized = this.charsmap ? hfPrecompiledNormalize(this.charsmap, text) : text;
    normalized = normalized.replace(/ {2,}/g, ' ').replaceAll(' ', META);
    if (normalized.length === 0) return new Int32Array(0);
    if (!normalized.startsWith(META)) normalized = META + normalized;
    const ids: number[] = [];
    // Metaspace split: every "▁" starts a new piece
    let start = 0;
    for (let i = 1; i <= normalized.length; i++) {
      if (i === normalized.length || normalized[i] === META) {
        this.viterbi(normalized.slice(start, i), ids);
        start = i;
      }
    }
    return Int32Array.from(ids);
  }

  private viterbi(word: string, out: number[]): void {
    const chars = [...word];
    const n = chars.length;
    const best = new Float64Array(n + 1).fill(-Infinity);
    const fromPos = new Int32Array(n + 1).fill(-1);
    const fromId = new Int32Array(n + 1).fill(-1);
    best[0] = 0;
    for (let i = 0; i < n; i++) {
      if (best[i] === -Infinity) continue;
      let piece = '';
      let singleFound = false;
      for (let len = 1; len <= this.maxPieceChars && i + len <= n; len++) {
        piece += chars[i + len - 1];
        const id = this.pieces.get(piece);
        if (id === undefined) continue;
        if (len === 1) singleFound = true;
        const score = best[i] + this.scores[id];
        if (score > best[i + len]) {
          best[i + len] = score;
          fromPos[i + len] = i;
          fromId[i + len] = id;
        }
      }
      if (!singleFound) {
        const score = best[i] + this.unkScore;
        if (score > best[i + 1]) {
          best[i + 1] = score;
          fromPos[i + 1] = i;
          fromId[i + 1] = this.unkId;
        }
      }
    }
    const path: number[] = [];
    for (let end = n; end > 0; end = fromPos[end]) path.push(fromId[end]);
    path.reverse();
    for (const id of path) {
      if (id === this.unkId && out.length > 0 && out[out.length - 1] === this.unkId) continue; // fuse_unk
      out.push(id);
    }
  }
}

/**
 * The engine with XLM-R tokenization done by UnigramTokenizer (HF-exact) instead of llama.cpp's UGM.
 * As HF does, control tokens written in the text ("<s>", "</s>", "<mask>") are matched first unless
 * parseSpecial is false, and every other stretch is tokenized on its own.
 */
export function withHfUnigram(engine: Engine, vocab: UnigramVocab): Engine {
  const tokenizer = new UnigramTokenizer(vocab);
  const controls = vocab.tokens.filter((t, id) => vocab.types[id] === 3 && t.length > 0);
  const controlIds = new Map(controls.map((t) => [t, vocab.tokens.indexOf(t)]));
  const pattern = controls.length > 0 ? new RegExp(controls.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g') : null;
  const content = (text: string, parseSpecial: boolean): number[] => {
    if (!parseSpecial || !pattern) return Array.from(tokenizer.tokenize(text));
    const ids: number[] = [];
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      const at = match.index ?? 0;
      if (at > last) ids.push(...tokenizer.tokenize(text.slice(last, at)));
      ids.push(controlIds.get(match[0])!);
      last = at + match[0].length;
    }
    if (last < text.length) ids.push(...tokenizer.tokenize(text.slice(last)));
    return ids;
  };
  return {
    get kind() { return engine.kind; },
    get info() { return engine.info; },
    get limits() { return engine.limits; },
    tokenize(text: string, options: TokenizeOptions): Int32Array {
      const ids = content(text, options.parseSpecial ?? true);
      if (!options.addSpecial) return Int32Array.from(ids);
      const { prefix, suffix } = specialTokens(engine);
      return Int32Array.from([...prefix, ...ids, ...suffix]);
    },
    detokenize: (tokens) => engine.detokenize(tokens),
    encodeBatch: (sequences, pooling, signal) => engine.encodeBatch(sequences, pooling, signal),
    ...(engine.applyLinear ? { applyLinear: engine.applyLinear.bind(engine) } : {}),
    dispose: () => engine.dispose(),
  };
}

/**
 * The UnigramVocab of an XLM-RoBERTa UGM GGUF (tokenizer.ggml.model "t5", fairseq's special ids, a charsmap), or null.
 * An infinite score is a CorruptModelError: the Viterbi search would find no path through its piece.
 */
export function unigramVocabFromGguf(metadata: Map<string, { value: unknown }>, path = 'the model'): UnigramVocab | null {
  if (metadata.get('tokenizer.ggml.model')?.value !== 't5') return null;
  const tokens = metadata.get('tokenizer.ggml.tokens')?.value;
  const scores = metadata.get('tokenizer.ggml.scores')?.value;
  const types = metadata.get('tokenizer.ggml.token_type')?.value;
  const charsmap = metadata.get('tokenizer.ggml.precompiled_charsmap')?.value;
  const unk = metadata.get('tokenizer.ggml.unknown_token_id')?.value;
  // XLM-R's tokenizer.json prepends "▁" and collapses spaces; other UGM vocabularies (T5) stay with llama.cpp
  const prefix = metadata.get('tokenizer.ggml.add_space_prefix')?.value !== false;
  const merge = metadata.get('tokenizer.ggml.remove_extra_whitespaces')?.value !== false;
  if (!Array.isArray(tokens) || !Array.isArray(scores) || !Array.isArray(types) || !Array.isArray(charsmap) || !prefix || !merge) return null;
  // fairseq's first ids mark XLM-RoBERTa's vocabulary (bge-m3, bge-reranker-*); T5 and others keep llama.cpp's tokenizer
  if (tokens[0] !== '<s>' || tokens[1] !== '<pad>' || tokens[2] !== '</s>' || tokens[3] !== '<unk>') return null;
  const infinite = scores.findIndex((score) => !Number.isFinite(score));
  if (infinite >= 0) throw new CorruptModelError(path, `tokenizer.ggml.scores[${infinite}]`, `is ${scores[infinite]}; piece scores must be finite`);
  return { tokens, scores, types, charsmap: Uint8Array.from(charsmap as number[]), unkId: unk === undefined ? 3 : Number(unk), source: path };
}
