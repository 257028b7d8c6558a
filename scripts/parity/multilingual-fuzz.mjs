/**
 * Seeded generator of messy multilingual strings for tokenizer fuzzing: scripts with spacing and
 * non-spacing marks, Hangul, CJK (BMP and supplementary), Arabic/Hebrew with format characters,
 * controls, every kind of whitespace, punctuation, emoji sequences, literal special tokens, and
 * words around the 100-character WordPiece limit. Shared by test/tokenizer-fuzz.test.ts and
 * `npm run parity -- --reference flagembedding` (which checks the same strings against the Rust tokenizer).
 */

/** mulberry32: small, fast, deterministic. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ASSIGNED = /\P{Cn}/u;
/** General category changed after Unicode 8.0 (the Rust tokenizer's tables): probed separately. */
const RECATEGORIZED = new Set([0x166d, 0x111c9, 0x1734, 0x1885, 0x1886, 0xa9bd, 0x1171e]);

function range(from, to) {
  const out = [];
  for (let cp = from; cp <= to; cp++) if (ASSIGNED.test(String.fromCodePoint(cp)) && !RECATEGORIZED.has(cp)) out.push(cp);
  return out;
}

const chars = (s) => Array.from(s, (c) => c.codePointAt(0));

/** Code point pools, by what they exercise. */
export const POOLS = {
  asciiWord: chars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
  asciiPunct: chars('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'),
  latin: [...range(0xc0, 0x24f), ...range(0x1e00, 0x1eff)],
  combining: [...range(0x300, 0x36f), ...range(0x1ab0, 0x1abe), ...range(0x20d0, 0x20f0), ...range(0xfe00, 0xfe0f), ...range(0xfe20, 0xfe2f)],
  greek: [...range(0x370, 0x3ff), 0x3a3, 0x3a3, 0x3c2],
  cyrillic: range(0x400, 0x4ff),
  devanagari: range(0x900, 0x97f),
  bengali: range(0x980, 0x9ff),
  tamil: range(0xb80, 0xbff),
  thai: range(0xe00, 0xe7f),
  hangul: [...range(0xac00, 0xac00 + 400), ...range(0xd700, 0xd7a3), ...range(0x1100, 0x11ff), ...range(0x3130, 0x318f)],
  arabic: [...range(0x600, 0x6ff), ...range(0x750, 0x77f)],
  hebrew: range(0x590, 0x5ff),
  cjk: [...range(0x4e00, 0x4e00 + 600), ...range(0x3400, 0x3440), ...range(0xf900, 0xf940), ...range(0x3040, 0x30ff)],
  cjkSupplementary: [...range(0x20000, 0x20040), ...range(0x2a700, 0x2a720), ...range(0x2b810, 0x2b830), ...range(0x2b918, 0x2b928), ...range(0x2f800, 0x2f820)],
  // added after Unicode 8.0: format controls, marks, punctuation the Rust tokenizer does not know
  newer: [0x61d, 0x7fd, 0x890, 0x891, 0x898, 0x8d3, 0x9fd, 0x9fe, 0xa76, 0x1abf, 0x1ac0, 0x1dfa, 0x2e4f, 0x2e52, 0x11070, 0x13430, 0x13438, 0x1e08f],
  fullwidth: range(0xff01, 0xff9f),
  controls: [...range(0x0, 0x1f), ...range(0x7f, 0x9f), 0xad, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0xfffd, 0xe000, 0xf8ff, 0x600, 0x601, 0x6dd, 0x70f],
  whitespace: [0x20, 0x20, 0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c, 0x85, 0xa0, 0x1680, ...range(0x2000, 0x200a), 0x2028, 0x2029, 0x202f, 0x205f, 0x3000],
  punctuation: [...range(0xa1, 0xbf), ...range(0x2010, 0x2027), ...range(0x2030, 0x205e), ...range(0x3001, 0x3003), ...range(0x3008, 0x3011), 0x55c, 0x589, 0x5be, 0x60c, 0x61f, 0x964, 0x965, 0xe4f, 0xe5a],
  symbols: [...range(0x2100, 0x214f), ...range(0x2150, 0x218b), ...range(0x2190, 0x21ff), ...range(0x2200, 0x22ff), ...range(0x20a0, 0x20bf), ...range(0x2460, 0x24ff), ...range(0xfb00, 0xfb06)],
  emoji: [...range(0x1f300, 0x1f5ff), ...range(0x1f600, 0x1f64f), ...range(0x1f900, 0x1f9ff), 0x1f3fb, 0x1f3fd, 0x200d, 0xfe0f, 0x2764],
  math: range(0x1d400, 0x1d4ff),
};

const SPECIAL_TEXTS = ['[SEP]', '[CLS]', '[MASK]', '[UNK]', '[PAD]', '[sep]', '[SEP', 'SEP]', '[[SEP]]', '[MASK][SEP]'];
const WORDS = ['the', 'embedding', 'unaffable', 'Straße', 'naïve', 'ΟΔΟΣ', 'Σίσυφος', 'İstanbul', 'ﬁnance', 'हिन्दी', 'ไทย', 'தமிழ்', '한국어', 'العربية', '東京', "don't", 'e-mail'];

function pick(rand, xs) {
  return xs[Math.floor(rand() * xs.length)];
}

function fromPool(rand, pool, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCodePoint(pick(rand, pool));
  return s;
}

/** One generated string: 1–24 pieces, each a run from one pool, a word, a special token or a long word. */
export function fuzzText(rand) {
  const names = Object.keys(POOLS);
  const pieces = 1 + Math.floor(rand() * 24);
  let s = '';
  for (let p = 0; p < pieces; p++) {
    const r = rand();
    if (r < 0.5) s += fromPool(rand, POOLS[pick(rand, names)], 1 + Math.floor(rand() * 8));
    else if (r < 0.7) s += ' ';
    else if (r < 0.8) s += pick(rand, WORDS);
    else if (r < 0.85) s += pick(rand, SPECIAL_TEXTS);
    else if (r < 0.9) {
      // a word near the 100-character limit, sometimes with marks or astral characters in it
      const pool = POOLS[pick(rand, ['asciiWord', 'latin', 'devanagari', 'hangul', 'emoji', 'math'])];
      s += fromPool(rand, pool, 95 + Math.floor(rand() * 12));
    } else if (r < 0.95) {
      // a script run with combining marks after its letters
      const base = POOLS[pick(rand, ['asciiWord', 'latin', 'greek', 'cyrillic', 'devanagari', 'thai', 'arabic'])];
      for (let i = 0; i < 1 + rand() * 6; i++) s += fromPool(rand, base, 1) + fromPool(rand, POOLS.combining, Math.floor(rand() * 3));
    } else {
      s += fromPool(rand, POOLS.whitespace, 1 + Math.floor(rand() * 4));
    }
  }
  return s;
}

export function fuzzTexts(seed, count) {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, () => fuzzText(rand));
}
