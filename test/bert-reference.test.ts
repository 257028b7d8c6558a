/**
 * FlagModel vectors on synthetic BERT GGUFs vs an independent float64 forward pass
 * (test/support/bertReference.ts) computed from the generator's weights.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagModel } from '../src/index.js';
import type { BertWeights } from './support/synthetic/bert.js';
import { cosine, erf, gelu, maxAbsDiff, referenceEmbeddings } from './support/bertReference.js';
import { fixturePath, fixtureWeights, textsOfManyLengths, type FixtureName } from './support/fixtures.js';

const CLS_ID = 101;
const SEP_ID = 102;
const MAX_LENGTH = 512;

const texts = ['a', 'Hello!', ...textsOfManyLengths(66, 430)];

interface Case {
  ids: Int32Array;
  cls: Float64Array;
  mean: Float64Array;
}

/** Reference vectors per text for one weight set (ids from the model under test, checked elsewhere). */
function referenceCases(model: FlagModel, weights: BertWeights): Case[] {
  return texts.map((text) => {
    const ids = model.tokenize(text);
    return { ids, ...referenceEmbeddings(weights, ids) };
  });
}

function compare(vectors: Float32Array[], refs: Float64Array[]) {
  let minCos = Infinity;
  let maxDiff = 0;
  vectors.forEach((v, i) => {
    minCos = Math.min(minCos, cosine(v, refs[i]));
    maxDiff = Math.max(maxDiff, maxAbsDiff(v, refs[i]));
  });
  return { minCos, maxDiff };
}

async function load(name: FixtureName, poolingMethod: 'cls' | 'mean'): Promise<FlagModel> {
  return FlagModel.load(fixturePath(name), { poolingMethod, threads: 2, batchSize: 16 });
}

describe('reference building blocks', () => {
  it('erf matches tabulated values to 1e-14', () => {
    const table: Array<[number, number]> = [
      [0, 0],
      [0.1, 0.1124629160182848922],
      [0.5, 0.5204998778130465377],
      [1, 0.8427007929497148693],
      [-1.5, -0.9661051464753107271],
      [2, 0.9953222650189527342],
      [3, 0.9999779095030014146],
      [4.5, 0.9999999998033839558],
      [7, 1],
    ];
    for (const [x, want] of table) expect(Math.abs(erf(x) - want)).toBeLessThan(1e-14);
  });

  it('gelu is x * Phi(x)', () => {
    expect(gelu(0)).toBe(0);
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 14); // Phi(1)
    expect(gelu(-1)).toBeCloseTo(-0.15865525393145707, 14);
  });
});

describe('F32 synthetic BERT vs float64 reference', () => {
  let clsModel: FlagModel;
  let meanModel: FlagModel;
  let cases: Case[];

  beforeAll(async () => {
    clsModel = await load('tiny-bert-f32.gguf', 'cls');
    meanModel = await load('tiny-bert-mean-f32.gguf', 'mean');
    // both fixtures come from the same seed: one weight set, one reference per text
    cases = referenceCases(clsModel, (await fixtureWeights('tiny-bert-f32.gguf')).weights);
  });
  afterAll(async () => {
    await clsModel?.dispose();
    await meanModel?.dispose();
  });

  it('covers short to truncated inputs', () => {
    const lengths = cases.map((c) => c.ids.length);
    console.log(`token lengths: ${lengths.length} texts, ${new Set(lengths).size} distinct, ${Math.min(...lengths)}..${Math.max(...lengths)}`);
    expect(Math.min(...lengths)).toBe(3);
    expect(Math.max(...lengths)).toBe(MAX_LENGTH);
    expect(new Set(lengths).size).toBeGreaterThanOrEqual(50);
    expect(lengths.filter((n) => n > 256).length).toBeGreaterThanOrEqual(8);
    expect(lengths.filter((n) => n === MAX_LENGTH).length).toBeGreaterThanOrEqual(3); // cut at 512
    for (const c of cases) {
      expect(c.ids[0]).toBe(CLS_ID);
      expect(c.ids[c.ids.length - 1]).toBe(SEP_ID);
    }
  });

  it('CLS pooling matches the reference on every text', async () => {
    const vectors = await clsModel.encode(texts);
    const { minCos, maxDiff } = compare(vectors, cases.map((c) => c.cls));
    console.log(`F32 cls  (${texts.length} texts): min cosine ${minCos.toFixed(9)}, max abs diff ${maxDiff.toExponential(3)}`);
    expect(minCos).toBeGreaterThanOrEqual(0.99999);
    expect(maxDiff).toBeLessThanOrEqual(5e-4);
  });

  it('mean pooling matches the reference on every text', async () => {
    const vectors = await meanModel.encode(texts);
    const { minCos, maxDiff } = compare(vectors, cases.map((c) => c.mean));
    console.log(`F32 mean (${texts.length} texts): min cosine ${minCos.toFixed(9)}, max abs diff ${maxDiff.toExponential(3)}`);
    expect(minCos).toBeGreaterThanOrEqual(0.99999);
    expect(maxDiff).toBeLessThanOrEqual(5e-4);
  });

  it('a single text gives the same vector as in the batch', async () => {
    const one = await clsModel.encode(texts[10]);
    expect(cosine(one, cases[10].cls)).toBeGreaterThanOrEqual(0.99999);
  });
});

/**
 * Quantized files are compared with the reference on the float32 weights they were made from,
 * so the bound covers weight rounding plus llama.cpp's reduced-precision activations.
 */
describe.each([
  // measured: F16 min cos 0.9999999, max diff 1.6e-4; Q8_0 min cos 0.99995, max diff 3.4e-3
  ['tiny-bert-f16.gguf', 0.999995, 1e-3],
  ['tiny-bert-q8_0.gguf', 0.9997, 1e-2],
] as const)('%s vs float64 reference on the source weights', (name, minCosine, maxDiffBound) => {
  let model: FlagModel;
  let cases: Case[];

  beforeAll(async () => {
    model = await load(name, 'cls');
    cases = referenceCases(model, (await fixtureWeights(name)).sourceWeights);
  });
  afterAll(async () => {
    await model?.dispose();
  });

  it('stays close on every text', async () => {
    const vectors = await model.encode(texts);
    const { minCos, maxDiff } = compare(vectors, cases.map((c) => c.cls));
    console.log(`${name} cls: min cosine ${minCos.toFixed(7)}, max abs diff ${maxDiff.toExponential(3)}`);
    expect(minCos).toBeGreaterThanOrEqual(minCosine);
    expect(maxDiff).toBeLessThanOrEqual(maxDiffBound);
  });
});
