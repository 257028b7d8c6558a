import { sharedTexts } from './fixtures.js';
import { Rng } from './synthetic/random.js';

/** Mixed texts: words, punctuation, digits, whitespace runs, accents, CJK, emoji, special-token strings. */
export function generatedTexts(count: number, seed: number, specialPool?: string[]): string[] {
  const rng = new Rng(seed);
  const pools = [
    ['the', 'protein', 'Summit', 'virtual', 'interface', "don't", 'e-mail', 'ICL', 'réponse', 'naïve', 'Straße', 'i18n', 'x'],
    ['.', ',', '?', '!', ':', ';', '"', "'", '(', ')', '-', '—', '…', '/', '#', '<', '>', '{}', '\\n'],
    ['0', '42', '3.14', '1999', '100000'],
    [' ', '  ', '   ', '\n', '\n\n', '\t', ' \n '],
    ['镇', '中文检索', '日本語', '한국어', 'Привет', 'مرحبا', 'हिन्दी', 'ไทย', 'e\u0301', 'ﬁ'],
    ['🦙', '😀', '👍🏽', '👨‍👩‍👧', '🇫🇷', '𝒳', '\u200b', '\u00a0'],
    specialPool ?? ['<s>', '</s>', '<unk>', '<instruct>', '<query>', '<response>', '<0x0A>', '▁', '<response', 'query>'],
  ];
  const weights = [10, 4, 2, 4, 3, 2, 1];
  const total = weights.reduce((a, b) => a + b, 0);
  const pick = () => {
    let r = rng.int(total);
    let k = 0;
    while (r >= weights[k]) r -= weights[k++];
    const pool = pools[k];
    return pool[rng.int(pool.length)];
  };
  return Array.from({ length: count }, () => {
    const n = 1 + rng.int(40);
    let text = '';
    for (let i = 0; i < n; i++) text += (rng.int(3) === 0 ? '' : ' ') + pick();
    return rng.int(4) === 0 ? text.trimStart() : text;
  });
}

/**
 * Mixed-length, mixed-script texts for batching tests: words drawn from the shared English
 * texts and from short phrases in other scripts, one word to a few hundred per text.
 */

const OTHER_SCRIPTS = [
  'Привет мир, как дела сегодня',
  '你好世界 今天天气很好 我们去公园',
  'こんにちは 世界 東京は晴れです',
  '안녕하세요 세계 오늘 날씨가 좋네요',
  'مرحبا بالعالم كيف حالك اليوم',
  'नमस्ते दुनिया आज मौसम अच्छा है',
  'สวัสดีชาวโลก วันนี้อากาศดี',
  'Γειά σου κόσμε τι κάνεις',
  'שלום עולם מה שלומך',
  'வணக்கம் உலகம் இன்று',
  'café naïve façade déjà vu Ångström',
  '🙂 🚀 👍🏽 ✨ 🇫🇷',
];

/** `count` texts, seeded: about a third one to eight words, the rest up to `maxWords`; a quarter mix in other scripts. */
export function mixedTexts(count: number, seed = 1, maxWords = 360): string[] {
  const english = sharedTexts().join(' ').split(/\s+/).filter(Boolean);
  const foreign = OTHER_SCRIPTS.flatMap((p) => p.split(' '));
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = rng.int(3) === 0 ? 1 + rng.int(8) : 1 + rng.int(maxWords);
    const mixForeign = rng.int(4) === 0;
    const start = rng.int(english.length - n);
    const words: string[] = [];
    for (let w = 0; w < n; w++) words.push(mixForeign && rng.int(2) === 0 ? foreign[rng.int(foreign.length)] : english[start + w]);
    out.push(words.join(' '));
  }
  return out;
}

/** A seeded shuffle of 0..n-1. */
export function shuffledOrder(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
