// transformers.js (ONNX Runtime, CPU) on the ONNX export of the same checkpoint: feature-extraction
// with mean pooling and normalization, texts sorted by length into batches (as FlagEmbedding does)
// so that padding costs it as little as it costs the others.
import { dirname, basename } from 'node:path';
import { runJob } from './worker-common.mjs';

await runJob(async (job) => {
  const { env, pipeline } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(job.modelDir);
  const extractor = await pipeline('feature-extraction', basename(job.modelDir), {
    dtype: job.dtype,
    device: 'cpu',
    session_options: { intraOpNumThreads: job.threads, interOpNumThreads: 1 },
  });
  const run = async (list) => (await extractor(list, { pooling: 'mean', normalize: true })).tolist();
  const embed = async (list) => {
    const order = list.map((t, i) => i).sort((a, b) => list[b].length - list[a].length);
    const out = new Array(list.length);
    for (let i = 0; i < order.length; i += job.batchSize) {
      const idx = order.slice(i, i + job.batchSize);
      const vecs = await run(idx.map((k) => list[k]));
      idx.forEach((k, j) => { out[k] = vecs[j]; });
    }
    return out;
  };
  return { info: { dtype: job.dtype }, embed, embedOne: (text) => run([text]) };
});
