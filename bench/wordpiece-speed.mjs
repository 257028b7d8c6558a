#!/usr/bin/env node
/**
 * Tokenization speed on the bench corpus (FlagEmbedding's example texts repeated to --passages,
 * default 1,315): bge-gguf's WordPiece (src/tokens/wordpiece.ts; cold = a fresh word cache per
 * pass, warm = the cache kept) against llama.cpp's WPM tokenizer through the native engine.
 * Best of --reps passes each. Needs `npm run build` (reads dist/).
 *
 *   node bench/wordpiece-speed.mjs [--passages 1315] [--reps 9] [--model models/all-minilm-l6-v2-q8_0.gguf]
 */
import { parseArgs } from 'node:util';
import { loadExampleTexts, repeatTo } from './corpus.mjs';
import { readGguf } from '../dist/gguf/reader.js';
import { loadEngine } from '../dist/runtime/load.js';
import { WordPieceTokenizer } from '../dist/tokens/wordpiece.js';
import { defaultExamplesDir } from '../dist/prompt/taskExamples.js';

const { values } = parseArgs({ options: { passages: { type: 'string' }, reps: { type: 'string' }, model: { type: 'string' } } });
const passages = Number(values.passages ?? 1315);
const reps = Number(values.reps ?? 9);
const path = values.model ?? 'models/all-minilm-l6-v2-q8_0.gguf';
const texts = repeatTo(loadExampleTexts(defaultExamplesDir()).texts, passages);
const gguf = await readGguf(path);

function best(name, makeTokenize) {
  let ms = Infinity;
  let tokens = 0;
  for (let r = 0; r < reps; r++) {
    const tokenize = makeTokenize();
    const t0 = performance.now();
    tokens = 0;
    for (const t of texts) tokens += tokenize(t);
    ms = Math.min(ms, performance.now() - t0);
  }
  console.log(`${name.padEnd(40)} ${String(tokens).padStart(8)} tokens  ${ms.toFixed(1).padStart(8)} ms  ${Math.round((tokens / ms) * 1000).toLocaleString('en-US').padStart(11)} tokens/s`);
}

console.log(`${texts.length} passages, best of ${reps}`);
const warm = WordPieceTokenizer.fromGguf(gguf);
best('bge-gguf WordPiece, cold word cache', () => {
  const fresh = WordPieceTokenizer.fromGguf(gguf);
  return (t) => fresh.encode(t).length + 2;
});
best('bge-gguf WordPiece, warm word cache', () => (t) => warm.encode(t).length + 2);
const engine = await loadEngine(path, { threads: 1, engine: 'native' }, gguf);
try {
  best("llama.cpp's WPM (native engine)", () => (t) => engine.tokenize(t, { addSpecial: true }).length);
} finally {
  await engine.dispose();
}
