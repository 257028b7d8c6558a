import { BgeGgufError } from '../errors.js';
import type { Engine, Pooling } from '../runtime/types.js';
import { planBatches } from './plan.js';

/** What encode* reports through onProgress: texts done of `total`, and their tokens (special tokens included). */
export interface EncodeProgress {
  done: number;
  total: number;
  tokens: number;
  totalTokens: number;
  /** Tokens of each text as embedded (after truncation, special tokens included), in input order. */
  tokenCounts: readonly number[];
}

export interface DecodeGroupsOptions {
  pooling: Pooling;
  /** FlagEmbedding's batch_size: the most texts in one decode. */
  batchSize: number;
  signal?: AbortSignal;
  onProgress?: (progress: EncodeProgress) => void;
}

/**
 * Sends token sequences to the engine in length-sorted groups, one decode per group, up to
 * engine.limits.parallelDecodes at once; `take` receives each group's outputs with the caller's
 * indices of its sequences. The first failure stops the other workers taking groups.
 */
export async function decodeGroups(
  engine: Engine,
  sequences: Int32Array[],
  options: DecodeGroupsOptions,
  take: (group: number[], outputs: Float32Array[]) => void | Promise<void>,
): Promise<void> {
  const groups = planBatches(
    sequences.map((s) => s.length),
    { maxTokens: engine.limits.batchTokens, maxSequences: Math.min(options.batchSize, engine.limits.maxSequences) },
  );
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
        const outputs = await engine.encodeBatch(group.map((i) => sequences[i]), options.pooling, options.signal);
        await take(group, outputs);
        for (const index of group) tokens += tokenCounts[index];
        done += group.length;
        options.onProgress?.({ done, total: sequences.length, tokens, totalTokens, tokenCounts });
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(engine.limits.parallelDecodes, groups.length)) }, worker));
}
