/**
 * XLM-R token ids against Hugging Face's XLMRobertaTokenizerFast: the Rust `tokenizers` library
 * (Python, in the parity venv; BGE_GGUF_PARITY_PYTHON overrides it) rebuilt from the vocabulary
 * GGUF's own metadata by scripts/parity/xlmr-hf-tokenize.py, on 5,000 seeded multilingual strings
 * and edge cases. llama.cpp's UGM tokenizer differs on ~20% of this combining-heavy set (its charsmap
 * walk is longest-prefix, HF's per grapheme); bge-gguf tokenizes XLM-R itself (src/tokens/unigram.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-ignore plain .mjs without type declarations
import { ensureVenv } from '../scripts/parity/python-env.mjs';
// @ts-ignore plain .mjs without type declarations
import { llamaSourceDir } from '../scripts/llama-source.mjs';
import { FlagReranker } from '../src/api/FlagReranker.js';
import { multilingualFuzz } from './support/multilingualFuzz.js';
import { repoRoot, sharedTexts } from './support/fixtures.js';
import { writeXlmrFixture } from './support/xlmrFixture.js';

const EDGE_CASES = [
  '',
  ' ',
  'trailing space ',
  '  leading and   multiple   spaces\t\ttabs\nnew\r\nlines  ',
  'e\u0302\u0323 ﬁ\u0301 decomposed traps',
  'literal <s> and </s> and <mask> tokens',
  'Café naïve résumé — Ångström, São Paulo, Zürich',
  '中文字符和日本語のテキスト 한국어 \u1112\u1161\u11ab\u1100\u116e\u11a8',
  'zero\u200bwidth\u00a0nbsp\u2003em-space\u0007bell',
  '😀 emoji 🚀 👨‍👩‍👧‍👦 🇫🇷 ©®™ € $ £ ¥',
  'x'.repeat(300),
];

let reranker: FlagReranker;
let texts: string[];
let hf: number[][];

beforeAll(async () => {
  const { path } = await writeXlmrFixture('xlmr-tokenizer.gguf', { layers: 1 });
  reranker = await FlagReranker.load(path, { threads: 1 });
  const llamaDir = llamaSourceDir() as string;
  const work = join(repoRoot, '.cache', 'xlmr-tokenizer-test');
  mkdirSync(work, { recursive: true });
  const words = sharedTexts().join(' ').split(/\s+/).filter(Boolean);
  const fuzz = multilingualFuzz(5000, 20250311, words);
  // long texts too (normalization cuts them into pieces at cluster boundaries)
  const long = Array.from({ length: 20 }, (_, k) => fuzz.slice(k * 40, k * 40 + 40).join(k % 2 ? ' ' : ''));
  texts = [...EDGE_CASES, ...fuzz, ...long];
  writeFileSync(join(work, 'texts.json'), JSON.stringify(texts));
  const python = process.env.BGE_GGUF_PARITY_PYTHON ?? ensureVenv(join(repoRoot, '.cache', 'parity-venv'), console.log);
  const vocab = join(llamaDir, 'models', 'ggml-vocab-nomic-bert-moe.gguf');
  execFileSync(python, [join(repoRoot, 'scripts', 'parity', 'xlmr-hf-tokenize.py'), join(llamaDir, 'gguf-py'), vocab, join(work, 'texts.json'), join(work, 'hf.json')], { stdio: 'inherit' });
  hf = JSON.parse(readFileSync(join(work, 'hf.json'), 'utf8'));
}, 600_000);

afterAll(async () => {
  await reranker?.dispose();
});

describe('XLM-R tokenization (UGM vocabulary)', () => {
  it('token ids are identical to HF XLMRobertaTokenizerFast on 5,000+ multilingual strings', async () => {
    const engine = (reranker as unknown as { engine: { tokenize(t: string, o: { addSpecial: boolean }): Int32Array } }).engine;
    const differing = texts.filter((text, i) => {
      const ours = Array.from(engine.tokenize(text, { addSpecial: false }));
      return ours.length !== hf[i].length || ours.some((id, k) => id !== hf[i][k]);
    });
    console.log(`XLM-R tokenizer: ${texts.length - differing.length}/${texts.length} identical to HF`);
    expect(differing).toEqual([]);
    expect(texts.length).toBeGreaterThanOrEqual(5000);
  });
});
