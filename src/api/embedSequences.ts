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
  await decodeGroups(engine, sequences, options, async (group, vectors) => {
    let bad = firstNonFinite(group, vectors);
    // Plain attention lets a NaN in one sequence's keys reach the others of its decode (NaN plus the
    // mask's -Infinity is NaN): decoded alone, each text shows whether it is the broken one.
    if (bad && group.length > 1) bad = (await firstNonFiniteAlone(engine, sequences, group, options)) ?? bad;
    if (bad) throw nonFiniteError(engine, bad);
    group.forEach((index, k) => {
      results[index] = postprocess(vectors[k], options);
    });
  });
  return results;
}

interface NonFinite {
  index: number;
  value: number;
}

/** The group's text with the lowest caller index whose vector holds NaN or Infinity. */
function firstNonFinite(group: number[], vectors: Float32Array[]): NonFinite | null {
  let bad: NonFinite | null = null;
  group.forEach((index, k) => {
    if (bad && index > bad.index) return;
    const value = vectors[k].find((x) => !Number.isFinite(x));
    if (value !== undefined) bad = { index, value };
  });
  return bad;
}

async function firstNonFiniteAlone(engine: Engine, sequences: Int32Array[], group: number[], options: EmbedOptions): Promise<NonFinite | null> {
  for (const index of [...group].sort((a, b) => a - b)) {
    const alone = await engine.encodeBatch([sequences[index]], options.pooling, options.signal);
    const bad = firstNonFinite([index], alone);
    if (bad) return bad;
  }
  return null;
}

/** NaN or Infinity in a pooled vector (broken weights, overflow) is an error, never a returned vector. */
function nonFiniteError(engine: Engine, bad: NonFinite): BgeGgufError {
  return new BgeGgufError(
    'NON_FINITE_OUTPUT',
    `model ${engine.info.file ?? engine.info.name} produced ${bad.value} in the vector of text ${bad.index} (0-based, input order); its weights are probably corrupt (NaN/Inf) or overflow in their type`,
  );
}
