/**
 * BGEM3FlagModel on a synthetic bge-m3 (random weights, XLM-R's real 250k vocabulary, heads written as
 * torch.save files and converted to the sidecar) against the float64 reference of FlagEmbedding's
 * M3 outputs and scores; batching; options and errors.
 */
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BGEM3FlagModel } from '../src/api/BGEM3FlagModel.js';
import { FlagAutoModel } from '../src/api/FlagAutoModel.js';
import { convertM3Heads } from '../src/convert/m3Heads.js';
import { BgeGgufError } from '../src/errors.js';
import { m3HeadsPath } from '../src/heads/m3HeadsFile.js';
import type { LexicalWeights } from '../src/heads/m3.js';
import { cosine } from './support/bertReference.js';
import { sharedTexts, textsOfManyLengths } from './support/fixtures.js';
import { m3Reference, referenceScores, type M3Reference } from './support/m3Reference.js';
import { writeSyntheticM3, type M3Weights } from './support/synthetic/m3.js';
import { xlmrVocabPath } from './support/xlmrFixture.js';

const dir = join(resolve(dirname(fileURLToPath(import.meta.url))), 'fixtures', `m3-synthetic-${process.pid}`);
let weights: M3Weights;
let modelPath: string;
let model: BGEM3FlagModel;
/** Flash attention off: llama.cpp's CPU flash attention rounds K and V to F16 (~2e-3 on these hidden states). */
let exact: BGEM3FlagModel;

const texts = [
  'What is BGE M3?',
  'BGE M3 is an embedding model supporting dense retrieval, lexical matching and multi-vector interaction.',
  'the the the cat sat on the mat the end', // repeated tokens: the largest weight is kept
  'Wie heißt die Hauptstadt von Frankreich? Paris est la capitale de la France. 巴黎是法国的首都。',
  'Машинное обучение — это раздел искусственного интеллекта.',
  '',
  'x',
  ...sharedTexts().slice(0, 6),
  ...textsOfManyLengths(3, 600),
];

beforeAll(async () => {
  const written = await writeSyntheticM3(dir, { layers: 2, hidden: 32, heads: 4, ffn: 64, maxPositions: 8192, seed: 20250312, vocabGguf: xlmrVocabPath() });
  weights = written.weights;
  modelPath = written.modelPath;
  await convertM3Heads(dir, modelPath);
  model = await BGEM3FlagModel.load(modelPath, { threads: 2 });
  exact = await BGEM3FlagModel.load(modelPath, { threads: 2, flashAttention: false });
}, 120_000);

afterAll(async () => {
  await model?.dispose();
  await exact?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function expectLexical(actual: LexicalWeights, expected: Map<number, number>): number {
  expect(Object.keys(actual).sort()).toEqual([...expected.keys()].map(String).sort());
  let worst = 0;
  for (const [id, w] of expected) worst = Math.max(worst, Math.abs(actual[String(id)] - w));
  return worst;
}

describe('BGEM3FlagModel vs the float64 reference', () => {
  let refs: M3Reference[];
  let out: Awaited<ReturnType<BGEM3FlagModel['encode']>> & { denseVecs: Float32Array[]; lexicalWeights: LexicalWeights[]; colbertVecs: Float32Array[][] };

  beforeAll(async () => {
    refs = texts.map((t) => m3Reference(weights, model.tokenize(t)));
    out = (await exact.encode(texts, { returnDense: true, returnSparse: true, returnColbertVecs: true })) as typeof out;
  }, 120_000);

  it('dense vectors: normalized CLS, cosine >= 0.99999', () => {
    const worst = Math.min(...texts.map((_, i) => cosine(out.denseVecs[i], refs[i].dense)));
    console.log(`m3 dense: worst cosine ${worst}`);
    expect(worst).toBeGreaterThanOrEqual(0.99999);
  });

  it('lexical weights: same token ids, weights within 1e-4 (CLS/EOS/PAD/UNK dropped, max per token)', () => {
    const worst = Math.max(...texts.map((_, i) => expectLexical(out.lexicalWeights[i], refs[i].lexical)));
    const largest = Math.max(...refs.map((r) => Math.max(0, ...r.lexical.values())));
    console.log(`m3 lexical (flash attention off): worst |diff| ${worst} (largest weight ${largest})`);
    expect(worst).toBeLessThanOrEqual(1e-4);
    expect(Object.keys(out.lexicalWeights[5])).toEqual([]); // '' → <s></s> only
  });

  it('ColBERT vectors: one per token after CLS (</s> included), every cosine >= 0.99999', () => {
    let worst = 1;
    texts.forEach((t, i) => {
      expect(out.colbertVecs[i].length).toBe(model.tokenize(t).length - 1);
      out.colbertVecs[i].forEach((v, k) => (worst = Math.min(worst, cosine(v, refs[i].colbert[k]))));
    });
    console.log(`m3 colbert: worst cosine ${worst}`);
    expect(worst).toBeGreaterThanOrEqual(0.99999);
  });

  it('scores: the weighted sums within 1e-5 of the reference formulas, within 1e-4 of the float64 model', async () => {
    const pairs: Array<[string, string]> = texts.slice(0, 8).map((t, i) => [t, texts[(i + 3) % texts.length]]);
    const weightsForDifferentModes = [0.4, 0.2, 0.4];
    const scores = (await exact.computeScore(pairs, { weightsForDifferentModes })) as Record<string, number[]>;
    let worst = 0;
    const perKey: Record<string, number> = {};
    pairs.forEach(([q, p], i) => {
      const ref = referenceScores(m3Reference(weights, model.tokenize(q)), m3Reference(weights, model.tokenize(p)), weightsForDifferentModes);
      for (const [key, value] of Object.entries(ref)) {
        perKey[key] = Math.max(perKey[key] ?? 0, Math.abs(scores[key][i] - value));
        worst = Math.max(worst, perKey[key]);
      }
    });
    console.log(`m3 scores vs the float64 model reference: worst |diff| ${worst} ${JSON.stringify(perKey)}`);
    // llama.cpp's CPU GELU goes through an F16 table: ~4e-4 on hidden states, ~2e-5 on ColBERT scores
    expect(worst).toBeLessThanOrEqual(1e-4);
    // the formulas themselves: the reference formulas on the model's own outputs, within 1e-5
    const q = await exact.encodeQueries(pairs.map((p) => p[0]), { returnSparse: true, returnColbertVecs: true });
    const p = await exact.encodeCorpus(pairs.map((p) => p[1]), { returnSparse: true, returnColbertVecs: true });
    const asRef = (o: typeof q, i: number): M3Reference => ({
      dense: Float64Array.from(o.denseVecs![i]),
      lexical: new Map(Object.entries(o.lexicalWeights![i]).map(([k, v]) => [Number(k), v])),
      colbert: o.colbertVecs![i].map((v) => Float64Array.from(v)),
    });
    let formula = 0;
    pairs.forEach((_, i) => {
      const ref = referenceScores(asRef(q, i), asRef(p, i), weightsForDifferentModes);
      for (const [key, value] of Object.entries(ref)) formula = Math.max(formula, Math.abs(scores[key][i] - value));
    });
    console.log(`m3 scores vs the reference formulas on the same vectors: worst |diff| ${formula}`);
    expect(formula).toBeLessThanOrEqual(1e-5);
    const single = await exact.computeScore(pairs[0], { weightsForDifferentModes });
    // one pair alone is a shorter decode than the batch, whose kernels differ by size (2.4e-6 measured)
    expect(Math.abs(single.dense - scores.dense[0])).toBeLessThanOrEqual(2e-5);
  });

  it("with llama.cpp's default (flash attention on): cosines >= 0.99999, lexical weights within 5e-4", async () => {
    const fast = await model.encode(texts, { returnSparse: true, returnColbertVecs: true });
    let cos = 1;
    let lexical = 0;
    texts.forEach((_, i) => {
      cos = Math.min(cos, cosine(fast.denseVecs![i], refs[i].dense), ...fast.colbertVecs![i].map((v, k) => cosine(v, refs[i].colbert[k])));
      lexical = Math.max(lexical, expectLexical(fast.lexicalWeights![i], refs[i].lexical));
    });
    console.log(`m3 (flash attention on): worst cosine ${cos}, worst lexical |diff| ${lexical}`);
    expect(cos).toBeGreaterThanOrEqual(0.99999);
    expect(lexical).toBeLessThanOrEqual(5e-4);
  });

  it('computeLexicalMatchingScore and colbertScore follow their definitions', () => {
    const [a, b] = [out.lexicalWeights[1], out.lexicalWeights[2]];
    const ref = referenceScores(refs[1], refs[2]);
    expect(Math.abs(model.computeLexicalMatchingScore(a, b) - ref.sparse)).toBeLessThanOrEqual(1e-5);
    expect(model.computeLexicalMatchingScore([a], [a, b])[0][1]).toBeCloseTo(model.computeLexicalMatchingScore(a, b), 12);
    expect(Math.abs(model.colbertScore(out.colbertVecs[1], out.colbertVecs[2]) - ref.colbert)).toBeLessThanOrEqual(1e-5);
  });
});

describe('BGEM3FlagModel behaviour', () => {
  it('returns null for what was not asked, one result for one string', async () => {
    const one = await model.encode('hello world');
    expect(one.denseVecs).toBeInstanceOf(Float32Array);
    expect(one.lexicalWeights).toBeNull();
    expect(one.colbertVecs).toBeNull();
    const sparseOnly = await model.encode('hello world', { returnDense: false, returnSparse: true });
    expect(sparseOnly.denseVecs).toBeNull();
    expect(typeof sparseOnly.lexicalWeights).toBe('object');
  });

  it('is exact under batching with batchInvariant (each text alone = in a batch)', async () => {
    const invariant = await BGEM3FlagModel.load(modelPath, { threads: 2, batchInvariant: true });
    try {
      const all = { returnSparse: true, returnColbertVecs: true };
      const batched = await invariant.encode(texts, { ...all, batchSize: 5 });
      let worst = 0;
      for (let i = 0; i < texts.length; i++) {
        const alone = await invariant.encode(texts[i], all);
        alone.denseVecs!.forEach((x, k) => (worst = Math.max(worst, Math.abs(x - batched.denseVecs![i][k]))));
        for (const [id, w] of Object.entries(alone.lexicalWeights!)) worst = Math.max(worst, Math.abs(w - batched.lexicalWeights![i][id]));
        alone.colbertVecs!.forEach((v, t) => v.forEach((x, k) => (worst = Math.max(worst, Math.abs(x - batched.colbertVecs![i][t][k])))));
      }
      console.log(`m3 batching (batchInvariant): worst |alone - batched| ${worst}`);
      expect(worst).toBeLessThanOrEqual(1e-5);
    } finally {
      await invariant.dispose();
    }
  }, 120_000);

  it('truncates to maxLength (default 512) and takes up to the model context', async () => {
    const long = textsOfManyLengths(1, 2000)[0];
    const short = await model.encode(long, { returnColbertVecs: true, returnDense: false });
    expect(short.colbertVecs!.length).toBe(511);
    await expect(model.encode(long, { maxLength: 9000 })).rejects.toThrow(/maxLength/);
  });

  it('convertIdToToken keys the weights by token text', async () => {
    const { lexicalWeights } = await model.encode('hello hello world', { returnDense: false, returnSparse: true });
    const byToken = model.convertIdToToken(lexicalWeights!);
    expect(Object.values(byToken).sort()).toEqual(Object.values(lexicalWeights!).sort());
    for (const token of Object.keys(byToken)) expect('hello hello world').toContain(token);
  });

  it('refuses unknown options and an empty choice of outputs, with typed errors', async () => {
    await expect(model.encode('a', { return_sparse: true } as never)).rejects.toThrow(/returnSparse/);
    await expect(model.encode('a', { returnDense: false })).rejects.toThrow(BgeGgufError);
    await expect(model.computeScore(['a', 'b'], { weightsForDifferentModes: [1, 1] })).rejects.toThrow(/three/);
  });

  it('FlagAutoModel maps bge-m3 to BGEM3FlagModel; encodeQueries applies the query instruction', async () => {
    const auto = await FlagAutoModel.fromFinetuned('BAAI/bge-m3', { modelPath, threads: 1, queryInstructionForRetrieval: 'Q: ' });
    try {
      expect(auto).toBeInstanceOf(BGEM3FlagModel);
      const m3 = auto as BGEM3FlagModel;
      const [viaQueries, plain] = [await m3.encodeQueries('pandas'), await m3.encode('Q: pandas')];
      expect(Array.from(viaQueries.denseVecs!)).toEqual(Array.from(plain.denseVecs!));
    } finally {
      await auto.dispose();
    }
  });

  it('without the heads sidecar: dense vectors work, sparse/ColBERT say how to get the heads', async () => {
    rmSync(m3HeadsPath(modelPath), { force: true });
    const denseOnly = await BGEM3FlagModel.load(modelPath, { threads: 1 });
    try {
      const { denseVecs } = await denseOnly.encode(texts[0]);
      expect(cosine(denseVecs!, (await model.encode(texts[0])).denseVecs!)).toBeGreaterThan(0.99999);
      await expect(denseOnly.encode('a', { returnSparse: true })).rejects.toThrow(/m3-heads\.gguf.*bge-gguf convert/);
      await expect(denseOnly.computeScore(['a', 'b'])).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    } finally {
      await denseOnly.dispose();
      await convertM3Heads(dir, modelPath);
    }
  });
});
