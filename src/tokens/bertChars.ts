/**
 * Character classes of Hugging Face's BertNormalizer and BertPreTokenizer (the Rust `tokenizers`
 * crate that BertTokenizerFast runs), one code point at a time. ASCII goes through a table; other
 * code points through Unicode property tests whose results are cached.
 *
 * The crate tests categories (control, punctuation, nonspacing mark) and decomposes with tables of
 * Unicode 8.0, while whitespace and lowercase come from Rust's standard library (current Unicode).
 * So a character assigned after 8.0 is, to BertTokenizerFast, an ordinary unassigned character, and
 * seven characters keep the category they had in 8.0 (CATEGORY_8).
 */
import { UNICODE8_ASSIGNED } from './unicode8Assigned.js';

/** What clean_text + handle_chinese_chars make of one code point. */
export const enum CleanClass {
  Keep = 0,
  /** NUL, U+FFFD and control characters (Cc, Cf, Co, Cs) other than \t \n \r are dropped. */
  Drop = 1,
  /** White_Space characters become one ASCII space. */
  Space = 2,
  /** CJK ideographs get a space on each side. */
  Cjk = 3,
  /** Assigned after Unicode 8.0: kept as is, and not decomposed (an unassigned character to the crate). */
  Unknown = 4,
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
const NONSPACING = /^\p{Mn}$/u;

/** Characters whose general category changed after Unicode 8.0, with their 8.0 class. */
const CATEGORY_8 = new Map<number, 'P' | 'Mn' | 'other'>([
  [0x166d, 'P'], // CANADIAN SYLLABICS CHI SIGN: Po, So since 12.0
  [0x111c9, 'P'], // SHARADA SANDHI MARK: Po, Mn since 11.0
  [0x1734, 'Mn'], // HANUNOO SIGN PAMUDPOD: Mn, Mc since 14.0
  [0x1885, 'other'], // MONGOLIAN LETTER ALI GALI BALUDA: Lo, Mn since 9.0
  [0x1886, 'other'],
  [0xa9bd, 'other'], // JAVANESE CONSONANT SIGN KERET: Mc, Mn since 12.0
  [0x1171e, 'Mn'], // AHOM CONSONANT SIGN MEDIAL RA: Mn, Mc in today's Unicode
]);

const ASSIGNED_8 = Uint32Array.from(UNICODE8_ASSIGNED.split(',').map((n) => parseInt(n, 36)));

/** True when the code point was assigned in Unicode 8.0 (surrogates count: JS strings can hold them). */
export function assignedIn8(cp: number): boolean {
  if (cp < 0x80 || (cp >= 0xd800 && cp <= 0xdfff)) return true;
  let lo = 0;
  let hi = ASSIGNED_8.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ASSIGNED_8[2 * mid]) hi = mid - 1;
    else if (cp > ASSIGNED_8[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

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
    const known = assignedIn8(cp);
    if (cp === 0 || cp === 0xfffd || (known && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d && OTHER.test(ch))) c = CleanClass.Drop;
    else if (isWhitespace(cp)) c = CleanClass.Space;
    else if (isCjk(cp)) c = CleanClass.Cjk;
    else c = known ? CleanClass.Keep : CleanClass.Unknown;
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
    const old = CATEGORY_8.get(cp);
    p = old ? old === 'P' : assignedIn8(cp) && PUNCTUATION.test(String.fromCodePoint(cp));
    punctCache.set(cp, p);
  }
  return p;
}

/** A nonspacing mark (Mn) as Unicode 8.0 has it: what strip_accents removes after NFD. */
export function isNonspacingMark8(cp: number): boolean {
  const old = CATEGORY_8.get(cp);
  if (old) return old === 'Mn';
  return assignedIn8(cp) && NONSPACING.test(String.fromCodePoint(cp));
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
