/**
 * Character classes of Hugging Face's BertNormalizer and BertPreTokenizer (the Rust `tokenizers`
 * crate that BertTokenizerFast runs), one code point at a time. ASCII goes through a table; other
 * code points through Unicode property tests whose results are cached.
 */

/** What clean_text + handle_chinese_chars make of one code point. */
export const enum CleanClass {
  Keep = 0,
  /** NUL, U+FFFD and control characters (Cc, Cf, Co, Cs) other than \t \n \r are dropped. */
  Drop = 1,
  /** White_Space characters become one ASCII space. */
  Space = 2,
  /** CJK ideographs get a space on each side. */
  Cjk = 3,
}

/** Rust's char::is_whitespace (the White_Space property), which BERT also applies to \t \n \r. */
export function isWhitespace(cp: number): boolean {
  if (cp < 0x80) return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d);
  return (
    cp === 0x85 || cp === 0xa0 || cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000
  );
}

const OTHER = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const PUNCTUATION = /^\p{P}$/u;

/** The CJK blocks of tokenizers' is_chinese_char (0x2B920, not 0x2B820, as the crate spells it). */
export function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

const cleanCache = new Map<number, CleanClass>();

/** clean_text's and handle_chinese_chars' view of a code point (lone surrogates are Cs: dropped). */
export function cleanClass(cp: number): CleanClass {
  let c = cleanCache.get(cp);
  if (c === undefined) {
    const ch = String.fromCodePoint(cp);
    if (cp === 0 || cp === 0xfffd || (cp !== 0x09 && cp !== 0x0a && cp !== 0x0d && OTHER.test(ch))) c = CleanClass.Drop;
    else if (isWhitespace(cp)) c = CleanClass.Space;
    else if (isCjk(cp)) c = CleanClass.Cjk;
    else c = CleanClass.Keep;
    cleanCache.set(cp, c);
  }
  return c;
}

const punctCache = new Map<number, boolean>();

/** BertPreTokenizer's is_bert_punc: ASCII punctuation and symbols, or Unicode category P*. */
export function isPunctuation(cp: number): boolean {
  if (cp < 0x80) return (cp >= 0x21 && cp <= 0x2f) || (cp >= 0x3a && cp <= 0x40) || (cp >= 0x5b && cp <= 0x60) || (cp >= 0x7b && cp <= 0x7e);
  let p = punctCache.get(cp);
  if (p === undefined) {
    p = PUNCTUATION.test(String.fromCodePoint(cp));
    punctCache.set(cp, p);
  }
  return p;
}

const lowerCache = new Map<number, string>();

/**
 * Rust's char::to_lowercase: per code point, so a final capital sigma becomes σ, not the ς that
 * String.prototype.toLowerCase gives at the end of a word.
 */
export function lowercaseOf(cp: number): string {
  let l = lowerCache.get(cp);
  if (l === undefined) {
    l = String.fromCodePoint(cp).toLowerCase();
    lowerCache.set(cp, l);
  }
  return l;
}
