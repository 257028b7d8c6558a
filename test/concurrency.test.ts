/**
 * Many encode() calls in flight at once (issue 10, "what held"): each result is bit-identical to
 * the same text encoded alone, one call at a time. Two decode lanes, so calls really overlap.
 * `npm run soak` runs 1,000.
 */
import { describe, expect, it } from 'vitest';
import { FlagModel } from '../src/index.js';
import { fixturePath } from './support/fixtures.js';

const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

describe('concurrent encodes', () => {
  it('60 concurrent encode() calls equal sequential ones bit for bit', async () => {
    const model = await FlagModel.load(fixturePath('tiny-bert-f32.gguf'), { threads: 2, parallelDecodes: 2, gpu: false });
    try {
      const texts = Array.from({ length: 60 }, (_, i) => `text ${i}: ${'many calls in flight at once '.repeat(1 + (i % 9))}`);
      const sequential: Float32Array[] = [];
      for (const text of texts) sequential.push(await model.encode(text));
      const concurrent = await Promise.all(texts.map((text) => model.encode(text)));
      const differing = texts.filter((_, i) => !bytes(sequential[i]).equals(bytes(concurrent[i])));
      expect(differing).toEqual([]);
    } finally {
      await model.dispose();
    }
  });
});
