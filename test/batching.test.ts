/**
 * Batching must not change vectors: every text encoded alone equals its vector from a batched call,
 * and runs are deterministic (repeat calls, 1 vs 2 threads, different batch sizes).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagModel } from '../src/index.js';
import { maxAbsDiff } from './support/bertReference.js';
import { fixturePath, textsOfManyLengths, type FixtureName } from './support/fixtures.js';
import { Rng } from './support/synthetic/random.js';

/** 50 texts of mixed lengths (3 to 512 tokens), shuffled so batches mix short and long ones. */
function mixedTexts(): string[] {
  const texts = textsOfManyLengths(50);
  const rng = new Rng(7);
  for (let i = texts.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [texts[i], texts[j]] = [texts[j], texts[i]];
  }
  return texts;
}

function worstDiff(a: Float32Array[], b: Float32Array[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((v, i) => maxAbsDiff(v, b[i])));
}

function bitIdentical(a: Float32Array[], b: Float32Array[]): boolean {
  return a.length === b.length && a.every((v, i) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(b[i].buffer, b[i].byteOffset, b[i].byteLength)));
}

const texts = mixedTexts();

/**
 * How far a text's vector may move when it shares a decode with other sequences.
 * - batchInvariant: every sequence is decoded on its own, so nothing may move (bit-identical;
 *   test/batch-invariant.test.ts checks it on larger models and every weight type).
 * - default (fast single queries): llama.cpp's CPU flash attention uses a different kernel below
 *   64 tokens per decode, and its CPU GELU rounds inputs to f16, which turns the kernels' last-bit
 *   differences into steps of ~5e-4 relative. Measured on the 64-dim fixtures: 1.2e-4 (cls),
 *   4.6e-5 (mean); both stay within the float64 reference's tolerance (test/bert-reference.test.ts).
 */
const TOLERANCE = { invariant: 0, default: 3e-4 } as const;

describe.each([
  ['tiny-bert-f32.gguf', 'cls', 'invariant'],
  ['tiny-bert-mean-f32.gguf', 'mean', 'invariant'],
  ['tiny-bert-f32.gguf', 'cls', 'default'],
  ['tiny-bert-mean-f32.gguf', 'mean', 'default'],
] as const)('%s (%s pooling, %s batching)', (name: FixtureName, poolingMethod, mode) => {
  const BATCH_TOLERANCE = TOLERANCE[mode];
  const batchInvariant = mode === 'invariant';
  let model: FlagModel;
  let batched: Float32Array[];

  beforeAll(async () => {
    model = await FlagModel.load(fixturePath(name), { poolingMethod, threads: 2, batchInvariant });
    batched = await model.encode(texts);
  });
  afterAll(async () => {
    await model?.dispose();
  });

  it('returns one vector per text, in input order, of the model dimension', () => {
    expect(batched.length).toBe(texts.length);
    for (const v of batched) expect(v.length).toBe(64);
  });

  it('encodes each text alone to the same vector as in the batch', async () => {
    const alone: Float32Array[] = [];
    for (const text of texts) alone.push(await model.encode(text));
    const diff = worstDiff(alone, batched);
    console.log(`${name} (${mode}): max abs diff alone vs batched ${diff.toExponential(3)}`);
    expect(diff).toBeLessThanOrEqual(BATCH_TOLERANCE);
  });

  it('gives the same vectors for other batch sizes', async () => {
    for (const batchSize of [1, 7, 64]) {
      expect(worstDiff(await model.encode(texts, { batchSize }), batched)).toBeLessThanOrEqual(BATCH_TOLERANCE);
    }
  });

  it('is bit-identical on a repeat run', async () => {
    expect(bitIdentical(await model.encode(texts), batched)).toBe(true);
  });

  it('is bit-identical with 1 thread and with 2 threads', async () => {
    const single = await FlagModel.load(fixturePath(name), { poolingMethod, threads: 1, batchInvariant });
    try {
      expect(bitIdentical(await single.encode(texts), batched)).toBe(true);
    } finally {
      await single.dispose();
    }
  });

  it('is bit-identical whether decodes run one at a time or side by side', async () => {
    // small decodes so that one call makes many groups and both lanes work at once
    const opts = { poolingMethod, threads: 2, batchInvariant, batchTokens: 64 } as const;
    const oneLane = await FlagModel.load(fixturePath(name), { ...opts, parallelDecodes: 1 });
    const twoLanes = await FlagModel.load(fixturePath(name), { ...opts, parallelDecodes: 2 });
    try {
      const [a, b] = [await oneLane.encode(texts), await twoLanes.encode(texts)];
      expect(bitIdentical(a, b)).toBe(true);
      expect(worstDiff(a, batched)).toBeLessThanOrEqual(BATCH_TOLERANCE);
    } finally {
      await oneLane.dispose();
      await twoLanes.dispose();
    }
  });
});
