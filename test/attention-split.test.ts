/**
 * By default a CPU decode under FLASH_ATTENTION_MIN_TOKENS runs plain attention (ggml's flash
 * attention is row by row there, and rounds K and V to F16), longer ones flash attention. Checked
 * by behaviour: a default engine's vectors equal, bit for bit, those of an engine pinned to the
 * attention that length should get, and the short ones are closer to the float64 reference.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNativeEngine, FLASH_ATTENTION_MIN_TOKENS } from '../src/runtime/native.js';
import type { Engine } from '../src/runtime/types.js';
import { referenceEmbeddings } from './support/bertReference.js';
import { fixturePath, fixtureWeights } from './support/fixtures.js';

const FIXTURE = 'tiny-bert-f32.gguf';
const sequence = (length: number) => Int32Array.from({ length }, (_, i) => (i === 0 ? 101 : i === length - 1 ? 102 : 1000 + ((i * 7919) % 28000)));
/** max |a/|a| - b| (the reference is L2-normalized; the engine returns the pooled state). */
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let norm = 0;
  for (let i = 0; i < a.length; i++) norm += a[i] * a[i];
  norm = Math.sqrt(norm);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] / norm - b[i]));
  return max;
};

describe('attention by decode size (CPU, flashAttention unset)', () => {
  const engines: Record<'auto' | 'flash' | 'plain', Engine> = {} as never;
  beforeAll(async () => {
    const path = fixturePath(FIXTURE);
    engines.auto = await createNativeEngine(path, { threads: 2, parallelDecodes: 1, gpu: false });
    engines.flash = await createNativeEngine(path, { threads: 2, parallelDecodes: 1, gpu: false, flashAttention: true });
    engines.plain = await createNativeEngine(path, { threads: 2, parallelDecodes: 1, gpu: false, flashAttention: false });
  });
  afterAll(async () => {
    for (const engine of Object.values(engines)) await engine?.dispose();
  });

  const encode = async (engine: Engine, ids: Int32Array) => (await engine.encodeBatch([ids], 'cls'))[0];

  it(`decodes under ${FLASH_ATTENTION_MIN_TOKENS} tokens use plain attention, longer ones flash attention`, async () => {
    for (const length of [3, 13, 40, FLASH_ATTENTION_MIN_TOKENS - 1]) {
      const ids = sequence(length);
      expect(Buffer.from((await encode(engines.auto, ids)).buffer)).toEqual(Buffer.from((await encode(engines.plain, ids)).buffer));
    }
    for (const length of [FLASH_ATTENTION_MIN_TOKENS, 200, 512]) {
      const ids = sequence(length);
      expect(Buffer.from((await encode(engines.auto, ids)).buffer)).toEqual(Buffer.from((await encode(engines.flash, ids)).buffer));
    }
  });

  it('a packed batch is routed by its total tokens, not by its sequences', async () => {
    const batch = Array.from({ length: 8 }, (_, i) => sequence(10 + i)); // 8 short sequences, 108 tokens
    const auto = await engines.auto.encodeBatch(batch, 'cls');
    const flash = await engines.flash.encodeBatch(batch, 'cls');
    auto.forEach((vector, i) => expect(Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength)).toEqual(Buffer.from(flash[i].buffer, flash[i].byteOffset, flash[i].byteLength)));
  });

  it('short decodes are closer to the float64 reference than flash attention gets', async () => {
    const { weights } = await fixtureWeights(FIXTURE);
    let plainError = 0;
    let flashError = 0;
    for (const length of [13, 40, 63]) {
      const ids = sequence(length);
      const reference = referenceEmbeddings(weights, ids).cls;
      plainError = Math.max(plainError, maxAbsDiff(await encode(engines.auto, ids), reference));
      flashError = Math.max(flashError, maxAbsDiff(await encode(engines.flash, ids), reference));
    }
    console.log(`short decodes vs float64: max |diff| ${plainError.toExponential(2)} plain (default), ${flashError.toExponential(2)} flash attention`);
    expect(plainError).toBeLessThan(flashError);
  });
});
