/**
 * A GGUF with NaN/Inf in its weights must never hand back a vector: the text that meets the
 * broken row gets a typed NON_FINITE_OUTPUT error naming the file and the text's index.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagModel } from '../src/index.js';
import { BgeGgufError } from '../src/errors.js';
import { readGguf } from '../src/gguf/reader.js';
import { GgmlType } from '../src/gguf/types.js';
import { bgeVocabPath } from './support/fixtures.js';
import { writeSyntheticBert } from './support/synthetic/bert.js';

const dir = mkdtempSync(join(tmpdir(), 'bge-gguf-nonfinite-'));
const TYPES = { f32: GgmlType.F32, f16: GgmlType.F16, q8_0: GgmlType.Q8_0 } as const;
/** Only the texts holding "world" meet the poisoned embedding row. */
const TEXTS = ['hello there', 'a small world', 'fine weather today'];

async function poisonedModel(type: keyof typeof TYPES, tensor: string, row: number): Promise<string> {
  const path = join(dir, `poisoned-${tensor}-${type}.gguf`);
  await writeSyntheticBert(path, {
    layers: 2, hidden: 64, heads: 4, ffn: 128, type: TYPES[type], pooling: 'cls', seed: 3, vocabGguf: bgeVocabPath(), poison: { tensor, row },
  });
  return path;
}

async function caught(action: () => Promise<unknown>): Promise<BgeGgufError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(BgeGgufError);
    return error as BgeGgufError;
  }
  throw new Error('expected an error');
}

let worldId = -1;
beforeAll(async () => {
  const tokens = (await readGguf(bgeVocabPath())).metadata.get('tokenizer.ggml.tokens')?.value as string[];
  worldId = tokens.indexOf('\u2581world'); // llama.cpp marks word-initial WordPiece tokens with U+2581
  expect(worldId).toBeGreaterThan(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(['f32', 'f16', 'q8_0'] as const)('NaN/Inf weights (%s)', (type) => {
  it.each([false, true])('a poisoned token row fails only the texts that use it (batchInvariant %s)', async (batchInvariant) => {
    const path = await poisonedModel(type, 'token_embd.weight', worldId);
    const model = await FlagModel.load(path, { threads: 2, batchInvariant });
    try {
      const error = await caught(() => model.encode(TEXTS));
      expect(error.code).toBe('NON_FINITE_OUTPUT');
      expect(error.message).toContain(`poisoned-token_embd.weight-${type}.gguf`);
      expect(error.message).toContain('text 1 ');
      expect((await caught(() => model.encode('small world'))).message).toContain('text 0 ');
      for (const v of await model.encode([TEXTS[0], TEXTS[2]])) expect(v.every(Number.isFinite)).toBe(true);
    } finally {
      await model.dispose();
    }
  });

  // a norm weight stays F32 in every file type (a NaN-scaled Q8_0 matrix block may come out finite)
  it('a poisoned layer weight fails the first text', async () => {
    const model = await FlagModel.load(await poisonedModel(type, 'blk.0.attn_output_norm.weight', 0), { threads: 2 });
    try {
      const error = await caught(() => model.encode(TEXTS));
      expect(error.code).toBe('NON_FINITE_OUTPUT');
      expect(error.message).toContain('text 0 ');
    } finally {
      await model.dispose();
    }
  });
});

describe('NaN/Inf weights on the node-llama-cpp fallback engine', () => {
  it('fails with the same typed error', async () => {
    const path = await poisonedModel('f32', 'token_embd.weight', worldId);
    const model = await FlagModel.load(path, { engine: 'node-llama-cpp', threads: 2 });
    try {
      const error = await caught(() => model.encode(TEXTS));
      expect(error.code).toBe('NON_FINITE_OUTPUT');
      expect(error.message).toContain('poisoned-token_embd.weight-f32.gguf');
      expect(error.message).toContain('text 1 ');
    } finally {
      await model.dispose();
    }
  });
});
