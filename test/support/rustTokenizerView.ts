/**
 * @huggingface/tokenizers (the JavaScript port) departs from the Rust `tokenizers` crate that
 * BertTokenizerFast runs in three places of BertNormalizer: it tests CJK ideographs per UTF-16
 * unit, so ideographs outside the BMP get no spaces; it lowercases with String.toLowerCase, which
 * makes a word-final capital sigma ς where Rust's per-character lowercase gives σ; and it classifies
 * characters with today's Unicode where the crate's tables are Unicode 8.0, so a later character
 * (a format control, mark or punctuation to the port) is an unassigned one to the crate. This gives
 * the port a text on which it behaves as the Rust crate does on the original: such a character
 * becomes U+0378 (unassigned today; neither is in any BERT vocabulary, so the word's ids are the same).
 * The seven characters whose category changed after 8.0 are left to the all-code-point probe of
 * `npm run parity -- --reference flagembedding`.
 */
import { assignedIn8, isCjk } from '../../src/tokens/bertChars.js';

export function rustView(text: string): string {
  let out = '';
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    if (isCjk(cp)) out += cp > 0xffff ? ` ${c} ` : c;
    else if (cp === 0x3a3) out += '\u03c3';
    else if (!assignedIn8(cp)) out += '\u0378';
    else out += c;
  }
  return out;
}
