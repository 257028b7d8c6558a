/**
 * BGE-M3 at 8k tokens: peak memory and time of one encode with all three outputs, on a synthetic model
 * of bge-m3's width (hidden 1024, 16 heads, FFN 4096) but 2 layers — llama.cpp reuses its compute
 * buffer across layers, so the buffers match the real 24-layer model; its weights (1.1 GB F16,
 * memory-mapped) come on top. The vocabulary is XLM-R's full 250k pieces (a 1 GB temporary file): llama.cpp
 * sizes each context's output buffer by it (see native/outputBuffer.cpp).
 *   npx tsx bench/m3-memory.ts [tokens=8192] [flashAttention=default|on|off]
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BGEM3FlagModel } from '../src/api/BGEM3FlagModel.js';
import { convertM3Heads } from '../src/convert/m3Heads.js';
import { writeSyntheticM3 } from '../test/support/synthetic/m3.js';
import { xlmrVocabPath } from '../test/support/xlmrFixture.js';

const tokens = Number(process.argv[2] ?? 8192);
const fa = process.argv[3] ?? 'default';
const dir = join(tmpdir(), `bge-m3-memory-${process.pid}`);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const peak = () => process.resourceUsage().maxRSS * 1024;

// The model is written by a child process, so its generation does not count in this process's peak RSS.
if (process.argv[4] === '--write') {
  const { modelPath } = await writeSyntheticM3(process.argv[5], { layers: 2, hidden: 1024, heads: 16, ffn: 4096, maxPositions: 8192, seed: 1, vocabGguf: xlmrVocabPath() });
  await convertM3Heads(process.argv[5], modelPath);
  process.exit(0);
}
try {
  execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), String(tokens), fa, '--write', dir], { stdio: 'inherit' });
  const modelPath = join(dir, 'model.gguf');
  const before = process.memoryUsage().rss;
  const model = await BGEM3FlagModel.load(modelPath, { threads: 2, ...(fa === 'default' ? {} : { flashAttention: fa === 'on' }) });
  const loaded = process.memoryUsage().rss;
  const text = 'The quick brown fox jumps over the lazy dog near the river bank. '.repeat(Math.ceil(tokens / 12));
  const ids = model.tokenize(text, tokens);
  let t = performance.now();
  const dense = await model.encode(text, { maxLength: tokens });
  const denseMs = performance.now() - t;
  const densePeak = peak();
  t = performance.now();
  const all = await model.encode(text, { maxLength: tokens, returnSparse: true, returnColbertVecs: true });
  const allMs = performance.now() - t;
  console.log(
    `${ids.length} tokens, flash attention ${fa}: RSS before load ${mib(before)}, after load ${mib(loaded)}, peak ${mib(densePeak)} (dense only), ${mib(peak())} (all three); ` +
      `dense only ${(denseMs / 1000).toFixed(1)} s, all three ${(allMs / 1000).toFixed(1)} s (${all.colbertVecs!.length} ColBERT vectors, ${Object.keys(all.lexicalWeights!).length} lexical weights, dense ${dense.denseVecs!.length} dims)`,
  );
  await model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
