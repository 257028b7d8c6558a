// bge-gguf FlagModel on a GGUF converted from the real checkpoint (mean pooling, as sentence-transformers).
import { runJob } from './worker-common.mjs';

await runJob(async (job) => {
  const { FlagModel } = await import('../../dist/index.js');
  const model = await FlagModel.load(job.modelPath, { threads: job.threads, poolingMethod: 'mean', engine: 'native' });
  return {
    info: { engine: model.engineKind },
    embed: (list, kind) => (kind === 'queries' ? model.encodeQueries(list) : model.encodeCorpus(list)),
    embedOne: (text) => model.encodeQueries([text]),
  };
});
