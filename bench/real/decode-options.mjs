// Engine-level experiment for issue 15 item 3: the corpus through createNativeEngine directly with
// bge-gguf's batch plan, for decode sizes and flash attention on/off (options FlagModel does not expose).
//   node bench/real/decode-options.mjs <model.gguf> [threads]
import { performance } from 'node:perf_hooks';
import { loadExampleTexts } from '../corpus.mjs';
import { defaultExamplesDir } from '../../dist/prompt/taskExamples.js';
import { createNativeEngine } from '../../dist/runtime/native.js';
import { planBatches } from '../../dist/batch/plan.js';

const [modelPath, threadsArg = '2'] = process.argv.slice(2);
const threads = Number(threadsArg);
const { texts } = loadExampleTexts(defaultExamplesDir());
console.log('| batchTokens | flash attention | corpus ms (best of 2) | 1 query ms (median of 30) |\n|---|---|---|---|');
for (const flashAttention of [true, false]) {
  for (const batchTokens of [512, 256, 128]) {
    const engine = await createNativeEngine(modelPath, { threads, batchTokens, flashAttention, pooling: 'mean' });
    const seqs = texts.map((t) => engine.tokenize(t, { addSpecial: true })).filter((s) => s.length <= 512);
    const plan = planBatches(seqs.map((s) => s.length), { maxTokens: engine.limits.batchTokens, maxSequences: engine.limits.maxSequences });
    const pass = async () => { const t = performance.now(); await Promise.all(plan.map((idx) => engine.encodeBatch(idx.map((i) => seqs[i]), 'mean'))); return performance.now() - t; };
    await pass();
    const corpus = Math.min(await pass(), await pass());
    const q = seqs.find((s) => s.length === 13) ?? seqs[0];
    const lat = [];
    for (let i = 0; i < 30; i++) { const t = performance.now(); await engine.encodeBatch([q], 'mean'); lat.push(performance.now() - t); }
    lat.sort((a, b) => a - b);
    console.log(`| ${batchTokens} | ${flashAttention} | ${corpus.toFixed(0)} | ${lat[15].toFixed(2)} |`);
    await engine.dispose();
  }
}
