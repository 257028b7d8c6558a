/** The node-llama-cpp fallback (used when the native addon cannot be built) gives the same results. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagModel } from '../src/api/FlagModel.js';
import { BgeGgufError } from '../src/errors.js';
import { cosineSimilarity } from '../src/vectors/similarity.js';
import { referenceEmbeddings } from './support/bertReference.js';
import { fixturePath, fixtureWeights, textsOfManyLengths } from './support/fixtures.js';

describe('node-llama-cpp fallback engine', () => {
  let fallback: FlagModel;
  let native: FlagModel;
  const texts = textsOfManyLengths(12);

  beforeAll(async () => {
    fallback = await FlagModel.load(fixturePath('tiny-bert-f32.gguf'), { engine: 'node-llama-cpp', threads: 2 });
    native = await FlagModel.load(fixturePath('tiny-bert-f32.gguf'), { engine: 'native', threads: 2 });
  });
  afterAll(async () => {
    await fallback?.dispose();
    await native?.dispose();
  });

  it('is the engine in use', () => {
    expect(fallback.engineKind).toBe('node-llama-cpp');
    expect(native.engineKind).toBe('native');
  });

  it('tokenizes like the native engine and matches the float64 reference', async () => {
    const { weights } = await fixtureWeights('tiny-bert-f32.gguf');
    const vectors = await fallback.encode(texts);
    texts.forEach((text, i) => {
      const ids = fallback.tokenize(text);
      expect(Array.from(ids)).toEqual(Array.from(native.tokenize(text)));
      expect(cosineSimilarity(vectors[i], referenceEmbeddings(weights, ids).cls)).toBeGreaterThan(0.99999);
    });
  });

  it('refuses a pooling the GGUF does not declare, with a typed error that says what to do', async () => {
    const mean = await FlagModel.load(fixturePath('tiny-bert-f32.gguf'), { engine: 'node-llama-cpp', poolingMethod: 'mean', threads: 2 });
    try {
      const error = await mean.encode('hello').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BgeGgufError);
      expect((error as BgeGgufError).code).toBe('UNSUPPORTED_MODEL');
      expect((error as Error).message).toMatch(/native addon/);
    } finally {
      await mean.dispose();
    }
  });
});

describe('when the native addon cannot load', () => {
  it("'auto' falls back to node-llama-cpp with one warning (reason, cost, a fix for a user's project); 'native' is a NATIVE_UNAVAILABLE error", async () => {
    const { loadEngine } = await import('../src/runtime/load.js');
    process.env.BGE_GGUF_NATIVE_ADDON = '/nonexistent/bge_gguf.node';
    const warn = console.warn;
    const warnings: string[] = [];
    console.warn = (message: string) => void warnings.push(message);
    try {
      const error = await loadEngine(fixturePath('tiny-bert-f32.gguf'), { engine: 'native' }).catch((e: unknown) => e);
      expect((error as BgeGgufError).code).toBe('NATIVE_UNAVAILABLE');
      expect((error as Error).message).toMatch(/bge_gguf\.node/);
      expect((error as Error).message).toMatch(/npm rebuild bge-gguf --build-from-source/);
      const engine = await loadEngine(fixturePath('tiny-bert-f32.gguf'), { threads: 2 });
      expect(engine.kind).toBe('node-llama-cpp');
      await engine.dispose();
      const again = await loadEngine(fixturePath('tiny-bert-f32.gguf'), { threads: 2 });
      await again.dispose();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/native addon cannot load \(.*bge_gguf\.node.*\).*node-llama-cpp/);
      expect(warnings[0]).toMatch(/20x slower/);
      expect(warnings[0]).toMatch(/npm rebuild bge-gguf --build-from-source/);
      expect(warnings[0]).not.toMatch(/npm run build:native/);
    } finally {
      console.warn = warn;
      delete process.env.BGE_GGUF_NATIVE_ADDON;
    }
  });
});
