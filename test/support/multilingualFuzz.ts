/**
 * A seeded multilingual fuzz set for tokenizer parity: words from many scripts, in precomposed and
 * decomposed (NFD) forms, with combining marks, ligatures, full/half-width forms, emoji sequences,
 * numbers and symbols, joined by spaces (sometimes other whitespace or punctuation).
 */
import { Rng } from './synthetic/random.js';

const WORDS: Record<string, string[]> = {
  english: ['the', 'retrieval', 'augmented', 'generation', 'embedding', 'model', 'ranks', 'passages', "don't", 'state-of-the-art', 'GPU', 'e-mail'],
  latin: ['café', 'naïve', 'résumé', 'Ångström', 'São', 'Paulo', 'Zürich', 'façade', 'Øresund', 'Łódź', 'Dvořák', 'İstanbul', 'straße', 'œuvre', 'Việt', 'Nguyễn', 'tiếng', 'học', 'ﬁnance', 'ﬂuid', 'Ǆemal'],
  cyrillic: ['Москва', 'обучение', 'машинное', 'Київ', 'ёлка', 'йогурт', 'щука', 'Ђорђе'],
  greek: ['Ελληνικά', 'άλφα', 'ΐ', 'ϊσος', 'Ωμέγα', 'ἀρχή'],
  arabic: ['العربية', 'مرحبا', 'كِتَابٌ', 'ﻻ', 'فارسی', 'اردو'],
  hebrew: ['עברית', 'שָׁלוֹם', 'ירושלים'],
  indic: ['हिन्दी', 'नमस्ते', 'বাংলা', 'தமிழ்', 'తెలుగు', 'ಕನ್ನಡ', 'മലയാളം', 'ਪੰਜਾਬੀ', 'ગુજરાતી', 'क्षत्रिय'],
  thai: ['ภาษาไทย', 'สวัสดี', 'กรุงเทพมหานคร', 'ເພາະ', 'ខ្មែរ', 'မြန်မာ'],
  cjk: ['中文字符', '机器学习', '検索拡張生成', '日本語のテキスト', 'ひらがな', 'カタカナ', 'ｶﾀｶﾅ', 'ｶﾞｷﾞｸﾞ', '한국어', '정보검색', 'ㄱㄴㄷ', '㈱', '㍻', '〜', '～'],
  compat: ['ＡＢＣ', 'ｆｕｌｌｗｉｄｔｈ', '１２３', '①②', '½', '²³', 'Ⅻ', 'ℌ', 'ℕ', '™', '…', '‼', 'µ', 'Å', 'K'],
  symbols: ['©', '®', '€', '£', '¥', '%', '&', '*', '~', '|', '\\', '/', '<', '>', '=', '+', '#hashtag', '@mention', 'https://example.com/a?q=1'],
  emoji: ['😀', '🚀', '👍🏽', '👨‍👩‍👧‍👦', '🇫🇷', '❤️', '✔︎', '🏳️‍🌈', '1️⃣'],
  numbers: ['3.14159', '1,000,000', '2024-01-01', '10:30am', '0x1F', '٣٤٥', '४२'],
};

/** Sequences that stress the charsmap: combining marks on bases, ligatures with marks, width variants. */
const COMBINING = ['\u0300', '\u0301', '\u0302', '\u0303', '\u0308', '\u0323', '\u0327', '\u030c', '\u0331', '\u20d7', '\u3099', '\u309a'];
const BASES = ['e', 'a', 'o', 'u', 'n', 'ﬁ', 'ﬂ', 'ｶ', 'か', 'A', 'ı', 'ß', 'æ', 'Ꜳ'];
const SEPARATORS = [' ', ' ', ' ', ' ', ' ', ' ', ', ', '. ', '  ', '\t', '\n', ' - ', '\u00a0', '\u3000', '\u200b', ''];

function pick<T>(rng: Rng, list: readonly T[]): T {
  return list[rng.int(list.length)];
}

function word(rng: Rng, wordPool: string[]): string {
  const r = rng.uniform();
  if (r < 0.1) {
    // a base with one to three combining marks, in random order
    let w = pick(rng, BASES);
    const marks = 1 + rng.int(3);
    for (let i = 0; i < marks; i++) w += pick(rng, COMBINING);
    return w;
  }
  const pool = pick(rng, Object.values(WORDS));
  let w = r < 0.5 ? pick(rng, pool) : pick(rng, wordPool);
  if (rng.uniform() < 0.15) w = w.normalize('NFD');
  else if (rng.uniform() < 0.05) w = w.normalize('NFKD');
  if (rng.uniform() < 0.05) w = w.toUpperCase();
  return w;
}

/** `count` strings from the seed; `corpusWords` adds real text (e.g. the shared FlagEmbedding examples). */
export function multilingualFuzz(count: number, seed: number, corpusWords: string[] = []): string[] {
  const rng = new Rng(seed);
  const wordPool = corpusWords.length > 0 ? corpusWords : WORDS.english;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const words = 1 + rng.int(14);
    let s = '';
    for (let k = 0; k < words; k++) s += (k > 0 ? pick(rng, SEPARATORS) : '') + word(rng, wordPool);
    out.push(s);
  }
  return out;
}
