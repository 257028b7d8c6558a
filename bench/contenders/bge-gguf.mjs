// Contender (a): bge-gguf's FlagModel on the native engine with its default batching (job.batchInvariant: that mode).
import { readFileSync } from 'node:fs';
import { latencies, readJob, report, sample, timed } from '../child.mjs';

const job = readJob();
const texts = JSON.parse(readFileSync(job.textsPath, 'utf8'));
const { FlagModel } = await import('../../dist/index.js');

const load = await timed(() => FlagModel.load(job.modelPath, { threads: job.threads, poolingMethod: 'cls', engine: job.engine ?? 'native', batchInvariant: job.batchInvariant ?? false }));
const model = load.value;
const encode = (list) => (job.workload === 'queries' ? model.encodeQueries(list) : model.encodeCorpus(list));

await encode(texts.slice(0, job.warmup));
const run = await timed(() => encode(texts));

const latencyMs = await latencies(job.latencyTexts ?? [], (text) => model.encodeQueries([text]));

report({
  engine: model.engineKind,
  loadMs: load.ms, encodeMs: run.ms, count: run.value.length, dim: run.value[0].length, latencyMs, sample: sample(run.value),
});
await model.dispose();
