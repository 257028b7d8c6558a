import { planBatches } from '../batch/plan.js';
import { BgeGgufError } from '../errors.js';
import type { Engine, Pooling } from '../runtime/types.js';
import { postprocess } from '../vectors/normalize.js';
import type { EncodeProgress } from './options.js';

export interface EmbedOptions {
  pooling: Pooling;
  /** FlagEmbedding's batch_size: the most texts in one decode. */
  batchSize: number;
  normalize: boolean;
  truncateDim?: number;
  signal?: AbortSignal;
  onProgress?: (progress: EncodeProgress) => void;
}

/**
 * Token sequences → vectors, in input order: length-sorted plan, one engine decode per group
 * (up to engine.limits.parallelDecodes of them at once), then truncateDim + L2 normalization.
 */
export async function embedSequences(engine: Engine, sequences: Int32Array[], options: EmbedOptions): Promise<Float32Array[]> {
  const groups = planBatches(
    sequences.map((s) => s.length),
    {
      maxTokens: engine.limits.batchTokens,
      maxSequences: Math.min(options.batchSize, engine.limits.maxSequences),
    },
  );
  const results = new Array<Float32Array>(sequences.length);
  const tokenCounts = sequences.map((s) => s.length);
  const totalTokens = tokenCounts.reduce((sum, n) => sum + n, 0);
  let done = 0;
  let tokens = 0;
  options.onProgress?.({ done, total: sequences.length, tokens, totalTokens, tokenCounts });
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < groups.length && !failed) {
      const group = groups[next++];
      try {
        if (options.signal?.aborted) throw new BgeGgufError('CANCELLED', 'encoding was cancelled by its AbortSignal');
        const vectors = await engine.encodeBatch(group.map((i) => sequences[i]), options.pooling, options.signal);
        group.forEach((index, k) => {
          results[index] = postprocess(vectors[k], options);
          tokens += sequences[index].length;
        });
        done += group.length;
        options.onProgress?.({ done, total: sequences.length, tokens, totalTokens, tokenCounts });
      } catch (error) {
        failed = true; // the other workers stop taking groups
        throw error;
      }
    }
  };
  const workers = Math.max(1, Math.min(engine.limits.parallelDecodes, groups.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}
