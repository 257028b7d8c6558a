/**
 * Hugging Face's Precompiled normalizer (tokenizers' normalizers/precompiled.rs over spm_precompiled),
 * which XLM-RoBERTa's tokenizer.json applies before its Unigram model. It reads SentencePiece's
 * precompiled charsmap (a darts-clone double-array trie of UTF-8 keys, then NUL-terminated
 * replacements) but, unlike SentencePiece and llama.cpp (longest byte prefix at every position),
 * walks the text per extended grapheme cluster: a cluster shorter than 6 bytes whose bytes start
 * with a key is replaced whole by the replacement of its SHORTEST matching prefix (the rest of the
 * cluster is dropped); otherwise each character is replaced on its own or kept. llama.cpp then
 * normalizes the result again, which leaves text normalized this way unchanged in practice
 * (measured by scripts/parity/xlmr-tokenizer-parity.ts).
 */
import { CorruptModelError } from '../errors.js';

const FIELD = 'tokenizer.ggml.precompiled_charsmap';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class PrecompiledCharsmap {
  /** Cluster → normalized text, filled as text is normalized (clusters repeat). */
  readonly cache = new Map<string, string>();
  private readonly units: Uint32Array;
  private readonly replacements: Uint8Array;

  /** `source` (the GGUF's path) names the file in the CorruptModelError a malformed charsmap raises. */
  constructor(charsmap: Uint8Array, private readonly source = 'the model') {
    if (charsmap.length < 4) throw new CorruptModelError(source, FIELD, `has ${charsmap.length} bytes, too few for its trie size`);
    const view = new DataView(charsmap.buffer, charsmap.byteOffset, charsmap.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > charsmap.length) {
      throw new CorruptModelError(source, FIELD, `declares a ${trieBytes}-byte trie in ${charsmap.length} bytes`);
    }
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + i * 4, true);
    this.replacements = charsmap.subarray(4 + trieBytes);
  }

  /** The replacement of the shortest key that prefixes `bytes`, or null (spm_precompiled's transform). */
  firstPrefixReplacement(bytes: Uint8Array): string | null {
    const units = this.units;
    const at = (i: number) => {
      if (i >= units.length) throw new CorruptModelError(this.source, FIELD, `has a trie link to unit ${i} of ${units.length}`);
      return units[i];
    };
    const offset = (unit: number) => (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    let node = offset(at(0));
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i];
      if (c === 0) break;
      node ^= c;
      const unit = at(node);
      if ((unit & 0x800000ff) >>> 0 !== c) return null;
      node ^= offset(unit);
      if ((unit >>> 8) & 1) return this.replacementAt(at(node) & 0x7fffffff);
    }
    return null;
  }

  private replacementAt(start: number): string {
    let end = start;
    while (end < this.replacements.length && this.replacements[end] !== 0) end++;
    return decoder.decode(this.replacements.subarray(start, end));
  }
}

let segmenter: Intl.Segmenter | undefined;

/**
 * Characters between two of which a grapheme cluster always ends (none is Extend, ZWJ, SpacingMark,
 * Prepend, a Hangul jamo or a regional indicator): ASCII and Latin letters below the combining marks,
 * kana, CJK ideographs, Hangul syllables. CR and LF are left out (CR LF is one cluster).
 */
function plain(c: number): boolean {
  return (c < 0x300 && c !== 0x0d && c !== 0x0a) || (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7a3) || (c >= 0x3041 && c <= 0x3096) || (c >= 0x30a1 && c <= 0x30fa);
}

/**
 * Intl.Segmenter slows down quadratically on long strings in V8 (16 s for 74k characters), so long
 * text is cut into pieces of about 64 characters at points that are cluster boundaries anyway.
 */
function* graphemes(text: string): Generator<string> {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  let start = 0;
  for (let i = 64; i <= text.length; i++) {
    if (i === text.length || (i - start >= 64 && plain(text.charCodeAt(i - 1)) && plain(text.charCodeAt(i)))) {
      yield* chunkGraphemes(text.slice(start, i));
      start = i;
    }
  }
  if (start < text.length) yield* chunkGraphemes(text.slice(start));
}

function* chunkGraphemes(chunk: string): Generator<string> {
  let allPlain = true;
  for (let i = 0; i < chunk.length && allPlain; i++) allPlain = plain(chunk.charCodeAt(i));
  if (allPlain) yield* chunk; // every character is a cluster of its own
  else for (const { segment } of segmenter!.segment(chunk)) yield segment;
}

/** The text as HF's Precompiled normalizer leaves it. */
export function hfPrecompiledNormalize(charsmap: PrecompiledCharsmap, text: string): string {
  let out = '';
  for (const segment of graphemes(text)) {
    let done = charsmap.cache.get(segment);
    if (done === undefined) {
      done = normalizeCluster(charsmap, segment);
      if (charsmap.cache.size < 65536) charsmap.cache.set(segment, done);
    }
    out += done;
  }
  return out;
}

/** One cluster: replaced whole by its shortest-prefix match when under 6 bytes, else character by character. */
function normalizeCluster(charsmap: PrecompiledCharsmap, segment: string): string {
  const bytes = encoder.encode(segment);
  if (bytes.length < 6) {
    const whole = charsmap.firstPrefixReplacement(bytes);
    if (whole !== null) return whole;
  }
  let out = '';
  for (const char of segment) out += charsmap.firstPrefixReplacement(encoder.encode(char)) ?? char;
  return out;
}
