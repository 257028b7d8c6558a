import { decodeGroups, type DecodeGroupsOptions } from '../batch/executor.js';
import { BgeGgufError } from '../errors.js';
import type { Engine } from '../runtime/types.js';
import { postprocess } from '../vectors/normalize.js';

export interface EmbedOptions extends DecodeGroupsOptions {
  normalize: boolean;
  truncateDim?: number;
}

/** Token sequences → pooled vectors in input order (decodeGroups), checked finite, then truncateDim + L2 normalization. */
export async function embedSequences(engine: Engine, sequences: Int32Array[], options: EmbedOptions): Promise<Float32Array[]> {
  const results = new Array<Float32Array>(sequences.length);
  await decodeGroups(engine, sequences, options, (group, vectors) => {
    checkFinite(vectors, group, engine);
    group.forEach((index, k) => {
      results[index] = postprocess(vectors[k], options);
    });
  });
  return results;
}

/**
 * NaN or Infinity in a pooled vector (broken weights, overflow) is an error, never a returned vector.
 * Names the first such text of the group in the caller's order.
 */
function checkFinite(vectors: Float32Array[], group: number[], engine: Engine): void {
  let bad = -1;
  let value = 0;
  group.forEach((index, k) => {
    if (bad >= 0 && index > bad) return;
    const vector = vectors[k];
    for (let i = 0; i < vector.length; i++) {
      if (!Number.isFinite(vector[i])) {
        bad = index;
        value = vector[i];
        return;
      }
    }
  });
  if (bad < 0) return;
  throw new BgeGgufError(
    'NON_FINITE_OUTPUT',
    `model ${engine.info.file ?? engine.info.name} produced ${value} in the vector of text ${bad} (0-based, input order); its weights are probably corrupt (NaN/Inf) or overflow in their type`,
  );
}
