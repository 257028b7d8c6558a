import { describe, expect, it } from 'vitest';
import { FlagModel } from '../src/api/FlagModel.js';
import { BgeGgufError } from '../src/errors.js';
import { fixturePath } from './support/fixtures.js';

/** What an encode call gives: its vectors, or the typed error (anything else — RangeError, TypeError — fails the test). */
async function vectorsOrTypedError(action: () => Promise<Float32Array[]>): Promise<Float32Array[] | BgeGgufError> {
  try {
    return await action();
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(BgeGgufError);
    return error as BgeGgufError;
  }
}

describe('inputs of any size', () => {
  it('a 10 MB text, a 6M-character word and 50k texts give vectors or typed errors, never a stack overflow', async () => {
    const model = await FlagModel.load(fixturePath('tiny-bert-f32.gguf'), { threads: 2 });
    try {
      const sentence = 'The quick brown fox jumps over the lazy dog. ';
      const huge = sentence.repeat(Math.ceil(10_000_000 / sentence.length));
      const word = 'a'.repeat(6_000_000);
      const many = Array.from({ length: 50_000 }, (_, i) => `text number ${i}`);
      for (const [name, texts] of [
        ['10 MB text', [huge]],
        ['6M-character word', [word]],
        ['50k texts', many],
      ] as const) {
        const result = await vectorsOrTypedError(() => model.encode(texts as string[]));
        if (result instanceof BgeGgufError) {
          expect(name, 'many short texts must embed').not.toBe('50k texts');
          expect(result.code).toBe('INVALID_INPUT');
          continue;
        }
        expect(result.length, name).toBe(texts.length);
        expect(result.every((v) => v.length === model.dimension && v.every(Number.isFinite)), name).toBe(true);
      }
    } finally {
      await model.dispose();
    }
  });
});
