/**
 * batchInvariant: a text's vector is the same bytes whether it is encoded alone or inside any
 * batch, in any order, with any batch size, thread count or number of side-by-side decodes.
 * BGE_GGUF_INVARIANT_TEXTS sets the number of texts (default 100; the README figures used 1000 and 300).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagModel } from '../src/index.js';
import { GgmlType } from '../src/gguf/types.js';
import { defaultModel } from '../src/models/registry.js';
import { bgeVocabPath } from './support/fixtures.js';
import { mixedTexts, shuffledOrder } from './support/mixedTexts.js';
import { writeSyntheticBert } from './support/synthetic/bert.js';

const COUNT = Number(process.env.BGE_GGUF_INVARIANT_TEXTS ?? 100);
const texts = mixedTexts(COUNT, 11);
const dir = mkdtempSync(join(tmpdir(), 'bge-gguf-invariant-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Texts whose vector bytes differ from the reference's. */
function differing(vectors: Float32Array[], reference: Float32Array[], indices: number[]): number[] {
  expect(vectors.length).toBe(indices.length);
  return indices.filter((index, k) => {
    const [a, b] = [vectors[k], reference[index]];
    return !Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  });
}

/** A bge-small-wide synthetic encoder (2 layers keep it quick) in the given weight type, mean pooling. */
async function synthetic(type: GgmlType, name: string): Promise<string> {
  const path = join(dir, `small-${name}.gguf`);
  await writeSyntheticBert(path, { layers: 2, hidden: 384, heads: 12, ffn: 1536, type, pooling: 'mean', seed: 9, vocabGguf: bgeVocabPath() });
  return path;
}

const MODELS: Array<[string, () => Promise<string>, 'cls' | 'mean']> = [
  ['real MiniLM Q8_0', async () => defaultModel().path, 'mean'],
  ['synthetic F32', () => synthetic(GgmlType.F32, 'f32'), 'mean'],
  ['synthetic F16', () => synthetic(GgmlType.F16, 'f16'), 'mean'],
  ['synthetic Q8_0', () => synthetic(GgmlType.Q8_0, 'q8_0'), 'cls'],
];

describe.each(MODELS)('batchInvariant on %s', (_, makePath, poolingMethod) => {
  let path: string;
  /** Every text encoded alone: one thread, one lane. */
  const alone: Float32Array[] = [];
  const all = texts.map((_, i) => i);
  const load = (options: { threads: number; parallelDecodes?: number; batchTokens?: number }) =>
    FlagModel.load(path, { poolingMethod, batchInvariant: true, ...options });

  beforeAll(async () => {
    path = await makePath();
    const model = await load({ threads: 1, parallelDecodes: 1 });
    try {
      for (const text of texts) alone.push(await model.encode(text));
    } finally {
      await model.dispose();
    }
  });

  it('one call on two threads and two lanes = each text alone, bit for bit', async () => {
    const model = await load({ threads: 2 });
    try {
      expect(differing(await model.encode(texts), alone, all)).toEqual([]);
    } finally {
      await model.dispose();
    }
  });

  it('shuffled, with other batch sizes and a small decode budget = each text alone', async () => {
    const model = await load({ threads: 1, parallelDecodes: 1, batchTokens: 64 });
    try {
      const order = shuffledOrder(texts.length, 5);
      expect(differing(await model.encode(order.map((i) => texts[i]), { batchSize: 7 }), alone, order)).toEqual([]);
      const reversed = [...all].reverse();
      expect(differing(await model.encode(reversed.map((i) => texts[i]), { batchSize: 1 }), alone, reversed)).toEqual([]);
    } finally {
      await model.dispose();
    }
  });

  it('every decode on two threads = each text alone on one', async () => {
    const model = await load({ threads: 2, parallelDecodes: 1 });
    try {
      const subset = all.filter((i) => i % 8 === 0);
      expect(differing(await model.encode(subset.map((i) => texts[i])), alone, subset)).toEqual([]);
    } finally {
      await model.dispose();
    }
  });

  it('three threads on three lanes, concurrent calls = each text alone', async () => {
    const model = await load({ threads: 3, parallelDecodes: 3 });
    try {
      const subset = all.filter((i) => i % 4 === 0);
      const halves = [subset.filter((_, k) => k % 2 === 0), subset.filter((_, k) => k % 2 === 1)];
      const results = await Promise.all(halves.map((indices) => model.encode(indices.map((i) => texts[i]))));
      halves.forEach((indices, h) => expect(differing(results[h], alone, indices)).toEqual([]));
    } finally {
      await model.dispose();
    }
  });
});
