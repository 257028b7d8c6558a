/**
 * @huggingface/tokenizers (the JavaScript port) departs from the Rust `tokenizers` crate that
 * BertTokenizerFast runs in two places of BertNormalizer: it tests CJK ideographs per UTF-16 unit,
 * so ideographs outside the BMP get no spaces, and it lowercases with String.toLowerCase, which
 * makes a word-final capital sigma ς where Rust's per-character lowercase gives σ. This gives the
 * port a text on which it behaves as the Rust crate does on the original.
 */
import { isCjk } from '../../src/tokens/bertChars.js';

export function rustView(text: string): string {
  let out = '';
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    out += cp > 0xffff && isCjk(cp) ? ` ${c} ` : cp === 0x3a3 ? '\u03c3' : c;
  }
  return out;
}
