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
import { InvalidInputError } from '../errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class PrecompiledCharsmap {
  private readonly units: Uint32Array;
  private readonly replacements: Uint8Array;

  constructor(charsmap: Uint8Array) {
    if (charsmap.length < 4) throw new InvalidInputError('precompiled charsmap is too short');
    const view = new DataView(charsmap.buffer, charsmap.byteOffset, charsmap.byteLength);
    const trieBytes = view.getUint32(0, true);
    if (trieBytes % 4 !== 0 || 4 + trieBytes > charsmap.length) throw new InvalidInputError('precompiled charsmap: bad trie size');
    this.units = new Uint32Array(trieBytes / 4);
    for (let i = 0; i < this.units.length; i++) this.units[i] = view.getUint32(4 + i * 4, true);
    this.replacements = charsmap.subarray(4 + trieBytes);
  }

  /** The replacement of the shortest key that prefixes `bytes`, or null (spm_precompiled's transform). */
  firstPrefixReplacement(bytes: Uint8Array): string | null {
    const units = this.units;
    const at = (i: number) => {
      if (i >= units.length) throw new InvalidInputError('precompiled charsmap: trie index out of range');
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

/** The text as HF's Precompiled normalizer leaves it. */
export function hfPrecompiledNormalize(charsmap: PrecompiledCharsmap, text: string): string {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  let out = '';
  for (const { segment } of segmenter.segment(text)) {
    const bytes = encoder.encode(segment);
    if (bytes.length < 6) {
      const whole = charsmap.firstPrefixReplacement(bytes);
      if (whole !== null) {
        out += whole;
        continue;
      }
    }
    for (const char of segment) {
      const replaced = charsmap.firstPrefixReplacement(encoder.encode(char));
      out += replaced ?? char;
    }
  }
  return out;
}
