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
