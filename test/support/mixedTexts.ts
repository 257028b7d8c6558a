/**
 * Mixed-length, mixed-script texts for batching tests: words drawn from the shared English
 * texts and from short phrases in other scripts, one word to a few hundred per text.
 */
import { sharedTexts } from './fixtures.js';
import { Rng } from './synthetic/random.js';

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
