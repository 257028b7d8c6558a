/**
 * The Engine seam's pooling 'none': every token's last hidden state, per sequence, from one
 * multi-sequence decode, against the float64 BERT forward pass; the node-llama-cpp fallback refuses it
 * with a typed error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNativeEngine } from '../src/runtime/native.js';
import { createNodeLlamaCppEngine } from '../src/runtime/nodeLlamaCpp.js';
import type { Engine } from '../src/runtime/types.js';
import { bertHiddenStates, cosine } from './support/bertReference.js';
import { fixturePath, fixtureWeights } from './support/fixtures.js';

let engine: Engine;

beforeAll(async () => {
  engine = await createNativeEngine(fixturePath('tiny-bert-f32.gguf'), { threads: 2 });
});
afterAll(async () => engine?.dispose());

describe("encodeBatch(sequences, 'none')", () => {
  it('returns length × dim token states per sequence, each row matching the float64 reference', async () => {
    const { weights } = await fixtureWeights('tiny-bert-f32.gguf');
    const texts = ['hello world', 'a somewhat longer sentence about pandas and bamboo forests', 'x'];
    const sequences = texts.map((t) => engine.tokenize(t, { addSpecial: true }));
    const states = await engine.encodeBatch(sequences, 'none');
    const dim = engine.info.embeddingDim;
    let worst = 1;
    sequences.forEach((ids, s) => {
      expect(states[s].length).toBe(ids.length * dim);
      const ref = bertHiddenStates(weights, ids);
      for (let t = 0; t < ids.length; t++) worst = Math.min(worst, cosine(states[s].subarray(t * dim, (t + 1) * dim), ref[t]));
    });
    console.log(`pooling none: worst per-token cosine ${worst}`);
    expect(worst).toBeGreaterThanOrEqual(0.99999);
    // views of the decode's one buffer: no copy per sequence
    expect(states[1].buffer).toBe(states[0].buffer);
    // the CLS row is what cls pooling returns
    const [cls] = await engine.encodeBatch([sequences[1]], 'cls');
    expect(cosine(cls, states[1].subarray(0, dim))).toBeGreaterThanOrEqual(0.999999);
  });

  it('applyLinear (the native heads) is rows · weightᵀ + bias, for any row count', async () => {
    expect(typeof engine.applyLinear).toBe('function');
    const [n, m, count] = [48, 40, 37];
    const rng = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
    const r = rng(3);
    const head = { weight: Float32Array.from({ length: m * n }, r), bias: Float32Array.from({ length: m }, r) };
    const rows = Float32Array.from({ length: count * n }, r);
    const out = await engine.applyLinear!(rows, count, head);
    let worst = 0;
    for (let t = 0; t < count; t++) {
      for (let o = 0; o < m; o++) {
        let want = head.bias[o];
        for (let i = 0; i < n; i++) want += rows[t * n + i] * head.weight[o * n + i];
        worst = Math.max(worst, Math.abs(out[t * m + o] - want));
      }
    }
    expect(out.length).toBe(count * m);
    expect(worst).toBeLessThan(1e-5);
    await expect(engine.applyLinear!(rows, count + 1, head)).rejects.toThrow();
  });

  it('the node-llama-cpp fallback refuses it with a typed error that says what to do', async () => {
    const fallback = await createNodeLlamaCppEngine(fixturePath('tiny-bert-f32.gguf'), { threads: 1 });
    try {
      await expect(fallback.encodeBatch([fallback.tokenize('a', { addSpecial: true })], 'none')).rejects.toMatchObject({ code: 'UNSUPPORTED_MODEL', message: expect.stringMatching(/build:native/) });
    } finally {
      await fallback.dispose();
    }
  });
});
