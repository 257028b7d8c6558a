// Contender (b): node-llama-cpp's LlamaEmbeddingContext, one getEmbeddingFor per text (its only API).
import { readFileSync } from 'node:fs';
import { getLlama } from 'node-llama-cpp';
import { latencies, readJob, report, sample, timed } from '../child.mjs';

const job = readJob();
const texts = JSON.parse(readFileSync(job.textsPath, 'utf8'));

const load = await timed(async () => {
  const llama = await getLlama({ gpu: false, logLevel: 'error' });
  const model = await llama.loadModel({ modelPath: job.modelPath });
  const context = await model.createEmbeddingContext({ threads: job.threads, contextSize: 512 });
  return { llama, model, context };
});
const { llama, model, context } = load.value;

const embed = async (list) => {
  const out = [];
  for (const text of list) out.push((await context.getEmbeddingFor(text)).vector);
  return out;
};

await embed(texts.slice(0, job.warmup));
const run = await timed(() => embed(texts));

const latencyMs = await latencies(job.latencyTexts ?? [], (text) => context.getEmbeddingFor(text));

report({ loadMs: load.ms, encodeMs: run.ms, count: run.value.length, dim: run.value[0].length, latencyMs, sample: sample(run.value) });
await context.dispose();
await model.dispose();
await llama.dispose();
