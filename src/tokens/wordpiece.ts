/**
 * BERT WordPiece tokenization as Hugging Face's BertTokenizerFast does it (the Rust `tokenizers`
 * crate: added special tokens, BertNormalizer, BertPreTokenizer, WordPiece), over the vocabulary a
 * GGUF carries. llama.cpp's own WPM tokenizer differs (it strips spacing marks, does not decompose
 * Hangul, splits words over 100 characters), so BERT GGUFs are tokenized here and only ids reach
 * the engine.
 *
 * Iterative and linear in the text: the text is processed in chunks cut after an ASCII whitespace
 * (no normalization step and no word crosses one), and stops once `maxTokens` ids are known, so the
 * first `maxTokens` ids are exactly those of the whole text.
 */
import { BgeGgufError } from '../errors.js';
import type { GgufFile } from '../gguf/types.js';
import { CleanClass, cleanClass, isNonspacingMark8, isPunctuation, isWhitespace, lowercaseOf } from './bertChars.js';

/** HF WordPiece's max_input_chars_per_word: a longer word becomes [UNK]. */
const MAX_WORD_CHARS = 100;
/** Characters per chunk before looking for the next ASCII whitespace to cut after. */
const CHUNK_CHARS = 2048;
/** Words remembered with their ids; the cache is emptied when it reaches this size. */
const WORD_CACHE_SIZE = 65536;

/** llama.cpp's token types (gguf TokenType). */
const CONTROL = 3;
const UNUSED = 5;

export interface BertNormalizerFlags {
  cleanText: boolean;
  handleChineseChars: boolean;
  lowercase: boolean;
  stripAccents: boolean;
}

export interface WordPieceVocab {
  /** Word-initial pieces ("hello") → id. */
  initial: Map<string, number>;
  /** Continuation pieces, without the "##" prefix ("ing") → id. */
  continuation: Map<string, number>;
  /** Added special tokens matched in the raw text ("[SEP]") → id. */
  special: Map<string, number>;
  unkId: number;
}

// ASCII classes for the fast path: 0 keep, 1 drop, 2 whitespace, 3 punctuation.
const ASCII_CLASS = new Uint8Array(128).map((_, cp) => {
  if (cp === 0x09 || cp === 0x0a || cp === 0x0d || cp === 0x20) return 2;
  if (cp < 0x20 || cp === 0x7f) return 1;
  return isPunctuation(cp) ? 3 : 0;
});
// Mn as today's Unicode has it, and U+1734, U+1171E (Mn in 8.0); isNonspacingMark8 decides
const MN_CANDIDATE = /[\p{Mn}\u1734\u{1171E}]/gu;
const stripMarks = (s: string): string => s.normalize('NFD').replace(MN_CANDIDATE, (m) => (isNonspacingMark8(m.codePointAt(0)!) ? '' : m));

function codePointLength(word: string): number {
  let n = 0;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < word.length) {
      const d = word.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

export class WordPieceTokenizer {
  private readonly maxPieceChars: number;
  private readonly specials: Array<{ text: string; id: number }>;
  private readonly wordCache = new Map<string, number[]>();

  constructor(
    private readonly vocab: WordPieceVocab,
    readonly flags: BertNormalizerFlags,
  ) {
    let longest = 1;
    for (const piece of vocab.initial.keys()) longest = Math.max(longest, piece.length);
    for (const piece of vocab.continuation.keys()) longest = Math.max(longest, piece.length);
    this.maxPieceChars = longest; // in UTF-16 units: an upper bound on the piece length in code points
    // leftmost match first, then the longest (HF's added-vocabulary matching)
    this.specials = [...vocab.special].map(([text, id]) => ({ text, id })).filter((s) => s.text.length > 0);
    this.specials.sort((a, b) => b.text.length - a.text.length);
  }

  /** Reads the vocabulary and normalizer flags of a GGUF whose tokenizer.ggml.model is "bert". */
  static fromGguf(gguf: GgufFile): WordPieceTokenizer {
    const meta = gguf.metadata;
    const tokens = meta.get('tokenizer.ggml.tokens')?.value;
    const types = meta.get('tokenizer.ggml.token_type')?.value;
    const unk = meta.get('tokenizer.ggml.unknown_token_id')?.value;
    if (!Array.isArray(tokens) || unk === undefined) {
      throw new BgeGgufError('UNSUPPORTED_MODEL', 'this BERT GGUF has no tokenizer.ggml.tokens or tokenizer.ggml.unknown_token_id; re-convert it with `bge-gguf convert`');
    }
    const vocab: WordPieceVocab = { initial: new Map(), continuation: new Map(), special: new Map(), unkId: Number(unk) };
    (tokens as string[]).forEach((token, id) => {
      const type = Array.isArray(types) ? Number(types[id]) : 1;
      if (type === UNUSED) return;
      // llama.cpp's form: control tokens as written, word-initial pieces behind U+2581, continuations bare
      if (type === CONTROL) vocab.special.set(token, id);
      else if (token.startsWith('\u2581')) setFirst(vocab.initial, token.slice(1), id);
      else setFirst(vocab.continuation, token, id);
    });
    const flag = (key: string): boolean | undefined => {
      const v = meta.get(`tokenizer.ggml.normalizer.${key}`)?.value;
      return typeof v === 'boolean' ? v : undefined;
    };
    // Absent flags: BertNormalizer's defaults; llama.cpp's WPM always lowercases, so its GGUFs are uncased.
    const lowercase = flag('lowercase') ?? true;
    return new WordPieceTokenizer(vocab, {
      cleanText: flag('clean_text') ?? true,
      handleChineseChars: flag('handle_chinese_chars') ?? true,
      lowercase,
      stripAccents: flag('strip_accents') ?? lowercase,
    });
  }

  /**
   * Content ids of a text (no [CLS]/[SEP]). `maxTokens`: only the first this many are needed; the
   * rest of the text is not tokenized. `matchSpecial`: match "[SEP]" etc. written in the text (HF does).
   */
  encode(text: string, maxTokens = Infinity, matchSpecial = true): number[] {
    const out: number[] = [];
    if (!matchSpecial || this.specials.length === 0) {
      this.encodeSegment(text, 0, text.length, out, maxTokens);
    } else {
      const next = this.specials.map(() => -2); // cached indexOf per special (-2: not searched yet)
      let pos = 0;
      while (pos < text.length && out.length < maxTokens) {
        let at = text.length;
        let hit = -1;
        for (let k = 0; k < this.specials.length; k++) {
          if (next[k] !== -1 && next[k] < pos) next[k] = text.indexOf(this.specials[k].text, pos);
          if (next[k] !== -1 && next[k] < at) {
            at = next[k];
            hit = k; // specials are sorted longest first, so a tie keeps the longest
          }
        }
        this.encodeSegment(text, pos, at, out, maxTokens);
        if (hit < 0) break;
        out.push(this.specials[hit].id);
        pos = at + this.specials[hit].text.length;
      }
    }
    if (out.length > maxTokens) out.length = maxTokens;
    return out;
  }

  private encodeSegment(text: string, start: number, end: number, out: number[], maxTokens: number): void {
    let s = start;
    while (s < end && out.length < maxTokens) {
      let e = Math.min(end, s + CHUNK_CHARS);
      if (e < end) {
        while (e < end && !isAsciiSpace(text.charCodeAt(e))) e++;
        if (e < end) e++;
      }
      const chunk = text.slice(s, e);
      if (isAscii(chunk)) this.encodeAscii(chunk, out, maxTokens);
      else this.encodeUnicode(chunk, out, maxTokens);
      s = e;
    }
  }

  /** ASCII needs no NFD, and its lowercase is per character anyway. */
  private encodeAscii(chunk: string, out: number[], maxTokens: number): void {
    const { cleanText, lowercase } = this.flags;
    let word = '';
    let from = 0;
    const flush = (to: number): void => {
      word += chunk.slice(from, to);
      if (word) this.encodeWord(lowercase ? word.toLowerCase() : word, out);
      word = '';
    };
    for (let i = 0; i < chunk.length && out.length < maxTokens; i++) {
      const c = chunk.charCodeAt(i);
      let cls = ASCII_CLASS[c];
      if (!cleanText && cls === 1) cls = c >= 0x09 && c <= 0x0d ? 2 : 0;
      if (cls === 0) continue;
      if (cls === 1) {
        word += chunk.slice(from, i);
      } else {
        flush(i);
        if (cls === 3) this.encodeWord(chunk[i], out);
      }
      from = i + 1;
    }
    if (out.length < maxTokens) flush(chunk.length);
  }

  private encodeUnicode(chunk: string, out: number[], maxTokens: number): void {
    const { cleanText, handleChineseChars, lowercase, stripAccents } = this.flags;
    // clean_text and handle_chinese_chars, then strip_accents (NFD, drop Mn) on the runs between
    // characters newer than Unicode 8.0, which the crate neither decomposes nor reorders across
    const runs: string[] = [];
    let parts: string[] = [];
    const endRun = (): void => {
      const run = parts.join('');
      runs.push(stripAccents ? stripMarks(run) : run);
      parts = [];
    };
    for (const ch of chunk) {
      const cls = cleanClass(ch.codePointAt(0)!);
      if (cls === CleanClass.Keep) parts.push(ch);
      else if (cls === CleanClass.Drop) { if (!cleanText) parts.push(ch); }
      else if (cls === CleanClass.Space) parts.push(cleanText ? ' ' : ch);
      else if (cls === CleanClass.Cjk) { if (handleChineseChars) parts.push(' ', ch, ' '); else parts.push(ch); }
      else {
        endRun();
        runs.push(ch);
      }
    }
    endRun();
    const text = runs.join('');
    let word = '';
    const flush = (): void => {
      if (word) this.encodeWord(word, out);
      word = '';
    };
    for (const ch of text) {
      if (out.length >= maxTokens) return;
      const lowered = lowercase ? lowercaseOf(ch.codePointAt(0)!) : ch;
      for (const c of lowered) {
        const cp = c.codePointAt(0)!;
        if (isWhitespace(cp)) flush();
        else if (isPunctuation(cp)) {
          flush();
          this.encodeWord(c, out);
        } else word += c;
      }
    }
    flush();
  }

  /** Greedy longest-match-first WordPiece of one pre-tokenized word. */
  private encodeWord(word: string, out: number[]): void {
    const cached = this.wordCache.get(word);
    if (cached) {
      for (const id of cached) out.push(id);
      return;
    }
    const ids = this.wordPiece(word);
    if (word.length <= 2 * MAX_WORD_CHARS) {
      if (this.wordCache.size >= WORD_CACHE_SIZE) this.wordCache.clear();
      this.wordCache.set(word, ids);
    }
    for (const id of ids) out.push(id);
  }

  private wordPiece(word: string): number[] {
    const { initial, continuation, unkId } = this.vocab;
    if (word.length > MAX_WORD_CHARS && codePointLength(word) > MAX_WORD_CHARS) return [unkId];
    const ids: number[] = [];
    let start = 0;
    while (start < word.length) {
      const pieces = start === 0 ? initial : continuation;
      let end = Math.min(word.length, start + this.maxPieceChars);
      let id: number | undefined;
      while (end > start) {
        if (isLowSurrogateAt(word, end)) end--; // never cut a surrogate pair
        if (end <= start) break;
        id = pieces.get(word.slice(start, end));
        if (id !== undefined) break;
        end--;
      }
      if (id === undefined) return [unkId];
      ids.push(id);
      start = end;
    }
    return ids;
  }
}

function setFirst(map: Map<string, number>, key: string, id: number): void {
  if (!map.has(key)) map.set(key, id);
}

function isAsciiSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

function isLowSurrogateAt(s: string, i: number): boolean {
  if (i <= 0 || i >= s.length) return false;
  const c = s.charCodeAt(i);
  const p = s.charCodeAt(i - 1);
  return c >= 0xdc00 && c <= 0xdfff && p >= 0xd800 && p <= 0xdbff;
}
