// bge-gguf FlagModel on a GGUF converted from the real checkpoint (mean pooling, as sentence-transformers).
import { runJob } from './worker-common.mjs';

await runJob(async (job) => {
  const { FlagModel } = await import('../../dist/index.js');
  // CPU rows stay on the CPU even where a GPU exists; GPU rows (--gpu) fail with a typed error without a CUDA device.
  const model = await FlagModel.load(job.modelPath, { threads: job.threads, poolingMethod: 'mean', engine: 'native', gpu: job.gpu ? 'cuda' : false });
  return {
    info: { engine: model.engineKind },
    embed: (list, kind) => (kind === 'queries' ? model.encodeQueries(list) : model.encodeCorpus(list)),
    embedOne: (text) => model.encodeQueries([text]),
  };
});
