// Where bge-gguf's time goes (issue 15 item 3), by wrapping the engine the model uses with timers:
// native tokenization (engine.tokenize, N-API call included), the engine's encodeBatch (native decode,
// pooling, copy back, per-sequence slices) and the rest of the call (JS-side truncation and instruction,
// batch planning, normalization, promise hops). Decode by op comes from `perf record` on the loop modes.
//
//   node bench/real/stages.mjs <model.gguf> [threads]                 timers, one query and a passage batch
//   node bench/real/stages.mjs <model.gguf> threads loop-query N      N single queries (for perf record)
//   node bench/real/stages.mjs <model.gguf> threads loop-passages N   N passes over the corpus
import { performance } from 'node:perf_hooks';
import { loadExampleTexts, median } from '../corpus.mjs';
import { defaultExamplesDir } from '../../dist/prompt/taskExamples.js';
import { FlagModel } from '../../dist/index.js';

const [modelPath, threadsArg = '2', mode = 'timers', countArg = '200'] = process.argv.slice(2);
const threads = Number(threadsArg);
// BGE_GGUF_STAGES_BATCH_TOKENS: try another decode size (the engine's batchTokens option).
const batchTokens = process.env.BGE_GGUF_STAGES_BATCH_TOKENS ? Number(process.env.BGE_GGUF_STAGES_BATCH_TOKENS) : undefined;
const model = await FlagModel.load(modelPath, { threads, poolingMethod: 'mean', engine: 'native', batchTokens });
const engine = model.engine;
const spent = { tokenize: 0, encodeBatch: 0, batches: 0, tokens: 0 };
const tokenize = engine.tokenize.bind(engine);
const encodeBatch = engine.encodeBatch.bind(engine);
engine.tokenize = (text, opts) => { const t = performance.now(); try { return tokenize(text, opts); } finally { spent.tokenize += performance.now() - t; } };
// Wall time with at least one encodeBatch in flight (the engine runs decodes side by side on its lanes).
let inFlight = 0;
let since = 0;
engine.encodeBatch = async (seqs, pooling, signal) => {
  if (inFlight++ === 0) since = performance.now();
  try { return await encodeBatch(seqs, pooling, signal); } finally {
    if (--inFlight === 0) spent.encodeBatch += performance.now() - since;
    spent.batches++; spent.tokens += seqs.reduce((s, q) => s + q.length, 0);
  }
};

const { texts } = loadExampleTexts(defaultExamplesDir());
const query = texts.find((t) => t.split(' ').length === 8) ?? texts[0];
const corpus = texts.filter((t) => model.tokenize(t).length <= 512);

async function measure(fn, reps) {
  const rows = [];
  for (let i = 0; i < reps; i++) {
    Object.assign(spent, { tokenize: 0, encodeBatch: 0, batches: 0, tokens: 0 });
    const t = performance.now();
    await fn();
    const total = performance.now() - t;
    rows.push({ total, tokenize: spent.tokenize, encodeBatch: spent.encodeBatch, rest: total - spent.tokenize - spent.encodeBatch, batches: spent.batches, tokens: spent.tokens });
  }
  return Object.fromEntries(Object.keys(rows[0]).map((k) => [k, median(rows.map((r) => r[k]))]));
}

if (mode === 'loop-query') {
  for (let i = 0; i < Number(countArg); i++) await model.encodeQueries([query]);
} else if (mode === 'loop-passages') {
  for (let i = 0; i < Number(countArg); i++) await model.encodeCorpus(corpus);
} else {
  await model.encodeCorpus(corpus.slice(0, 16));
  const q = await measure(() => model.encodeQueries([query]), 50);
  const p = await measure(() => model.encodeCorpus(corpus), 3);
  const line = (name, r) => `| ${name} | ${r.total.toFixed(2)} | ${r.tokenize.toFixed(2)} | ${r.encodeBatch.toFixed(2)} | ${r.rest.toFixed(2)} | ${r.batches} | ${r.tokens} |`;
  console.log(`${modelPath}, ${threads} threads; median ms per call`);
  console.log('| call | total | native tokenize | engine.encodeBatch (decode, pooling, copy) | rest (JS: truncation, planning, normalize, hops) | decodes | tokens |');
  console.log('|---|---|---|---|---|---|---|');
  console.log(line(`1 query (${model.tokenize(query).length} tokens)`, q));
  console.log(line(`${corpus.length} passages`, p));
}
await model.dispose();
