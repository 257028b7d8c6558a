/**
 * FlagReranker on a synthetic XLM-R cross-encoder (random weights, XLM-R's real 250k vocabulary):
 * scores against the float64 reference of XLMRobertaForSequenceClassification, against llama.cpp's
 * rank pooling as node-llama-cpp's ranking context runs it, pair ids against HF's prepare_for_model
 * (only_second truncation) transcribed in test/support, batching, normalize, errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagReranker } from '../src/api/FlagReranker.js';
import { BgeGgufError } from '../src/errors.js';
import { hfRerankerIds } from './support/hfPairReference.js';
import { fixturePath, sharedTexts, textsOfManyLengths } from './support/fixtures.js';
import { writeXlmrFixture } from './support/xlmrFixture.js';
import { referenceRerankScore } from './support/xlmrReference.js';
import type { XlmrWeights } from './support/synthetic/xlmr.js';

const BOS = 0;
const EOS = 2;

let path: string;
let weights: XlmrWeights;
let reranker: FlagReranker;

/** Query/passage pairs of many lengths: short, multilingual, a long passage, a long query, both long. */
function pairs(): Array<[string, string]> {
  const texts = sharedTexts();
  const long = textsOfManyLengths(12, 700);
  return [
    ['what is a panda?', 'The giant panda is a bear species endemic to China.'],
    ['what is a panda?', 'hi'],
    ['Wie heißt die Hauptstadt von Frankreich?', 'Paris est la capitale de la France. 巴黎是法国的首都。'],
    ['¿Qué es el aprendizaje automático?', 'Машинное обучение — это раздел искусственного интеллекта.'],
    [texts[3], texts[7]],
    [texts[10], long[11]], // passage cut to fit
    [long[11], texts[12]], // query cut to 384
    [long[10], long[11]], // both cut
    ['', 'empty query'],
    ['empty passage', ''],
    ...texts.slice(20, 32).map((t, i): [string, string] => [texts[40 + i], t]),
  ];
}

beforeAll(async () => {
  const fixture = await writeXlmrFixture('xlmr-reranker-f32.gguf');
  path = fixture.path;
  weights = fixture.weights;
  reranker = await FlagReranker.load(path, { threads: 2 });
});

afterAll(async () => {
  await reranker?.dispose();
});

/** HF's ids for a pair, from the query's and passage's plain ids (llama.cpp's UGM tokenization). */
function referenceIds(pair: [string, string], maxLength = 512, queryMaxLength = Math.floor((maxLength * 3) / 4)): number[] {
  return hfRerankerIds(plain(pair[0]), plain(pair[1]), { cls: BOS, sep: EOS }, maxLength, queryMaxLength);
}

let tokenizeEngine: ((text: string) => number[]) | null = null;
function plain(text: string): number[] {
  if (!tokenizeEngine) throw new Error('tokenizer not ready');
  return tokenizeEngine(text);
}

describe('FlagReranker (synthetic XLM-R, F32)', () => {
  beforeAll(() => {
    const engine = (reranker as unknown as { engine: { tokenize(t: string, o: { addSpecial: boolean }): Int32Array } }).engine;
    tokenizeEngine = (text) => Array.from(engine.tokenize(text, { addSpecial: false }));
  });

  it('builds the pair ids HF prepare_for_model builds (only_second truncation), default lengths', async () => {
    const cases = pairs();
    const ids = await reranker.pairIds(cases);
    for (let i = 0; i < cases.length; i++) {
      expect(Array.from(ids[i]), `pair ${i}`).toEqual(referenceIds(cases[i]));
    }
    const lengths = ids.map((s) => s.length);
    expect(lengths.filter((n) => n === 512).length).toBeGreaterThanOrEqual(2); // passage cut to fill 512 exactly
    expect(Array.from(ids[0].slice(0, 1))).toEqual([BOS]);
  });

  it('truncation cases at small lengths: long query, long passage, both, and HF\'s "cannot cut the passage" case', async () => {
    const long = textsOfManyLengths(4, 200);
    const cases: Array<{ pair: [string, string]; maxLength: number; queryMaxLength?: number }> = [
      { pair: [long[3], 'short passage'], maxLength: 64 },
      { pair: ['short query', long[3]], maxLength: 64 },
      { pair: [long[2], long[3]], maxLength: 64 },
      { pair: [long[2], long[3]], maxLength: 40, queryMaxLength: 10 },
      { pair: [long[3], 'a b c'], maxLength: 64, queryMaxLength: 62 }, // passage too short to remove the excess: nothing is cut
      { pair: [long[3], long[1]], maxLength: 64, queryMaxLength: 60 },
    ];
    let untruncated = 0;
    for (const { pair, maxLength, queryMaxLength } of cases) {
      const [ours] = await reranker.pairIds(pair, { maxLength, queryMaxLength });
      const want = referenceIds(pair, maxLength, queryMaxLength ?? Math.floor((maxLength * 3) / 4));
      expect(Array.from(ours)).toEqual(want);
      if (want.length > maxLength) untruncated++;
    }
    expect(untruncated).toBe(2); // HF cuts the passage only when it is longer than the excess
  });

  it('scores match the float64 XLMRobertaForSequenceClassification reference: within 1e-4 with F32 attention', async () => {
    const cases = pairs();
    const want = cases.map((pair) => referenceRerankScore(weights, referenceIds(pair)));
    const maxDiff = (scores: number[]) => Math.max(...scores.map((s, i) => Math.abs(s - want[i])));
    // the default (flash attention off) is exact; llama.cpp's CPU flash attention rounds K and V to F16: ~1e-4 on these logits
    const flash = await FlagReranker.load(path, { threads: 2, flashAttention: true });
    try {
      const f32 = await reranker.computeScore(cases);
      const fast = await flash.computeScore(cases);
      console.log(
        `reranker F32 (${cases.length} pairs, up to 512 tokens): max |score - reference| ${maxDiff(f32).toExponential(3)} ` +
          `(default: flash attention off), ${maxDiff(fast).toExponential(3)} (flashAttention: true)`,
      );
      expect(maxDiff(f32)).toBeLessThanOrEqual(1e-4);
      expect(maxDiff(fast)).toBeLessThanOrEqual(3e-4);
      const spread = Math.max(...want) - Math.min(...want);
      expect(spread).toBeGreaterThan(50 * maxDiff(f32)); // the scores differ between pairs far more than the error
    } finally {
      await flash.dispose();
    }
  });

  it('one pair gives a number; a list keeps input order; batching does not change scores', async () => {
    const cases = pairs();
    const batched = await reranker.computeScore(cases, { batchSize: 7 });
    const one = await reranker.computeScore(cases[4]);
    expect(typeof one).toBe('number');
    let maxDiff = 0;
    for (let i = 0; i < cases.length; i++) maxDiff = Math.max(maxDiff, Math.abs(batched[i] - (await reranker.computeScore(cases[i]))));
    console.log(`reranker batched vs one at a time: max diff ${maxDiff.toExponential(3)}`);
    // Default mode: a batch is one decode of 64+ tokens, a pair alone a short one, and the CPU kernels
    // differ by decode size (GELU in F32 from 64 tokens, llama.cpp's F16 table below): 1.4e-5 measured.
    // batchInvariant makes it exact (test/batch-invariant.test.ts).
    expect(maxDiff).toBeLessThanOrEqual(5e-5);
  });

  it('rank sorts by score; rankPairIds on pairIds gives the same results; a count mismatch is an error', async () => {
    const query = 'what is a panda?';
    const documents = pairs().slice(0, 6).map((p) => p[1]);
    const ranked = await reranker.rank(query, documents, { topN: 4 });
    const scores = await reranker.computeScore(documents.map((d): [string, string] => [query, d]));
    expect(ranked.results.map((r) => r.index)).toEqual([...scores.keys()].sort((a, b) => scores[b] - scores[a] || a - b).slice(0, 4));
    ranked.results.forEach((r) => expect(r.score).toBe(scores[r.index]));
    const ids = await reranker.pairIds(documents.map((d): [string, string] => [query, d]));
    expect(await reranker.rankPairIds(ids, documents, { topN: 4 })).toEqual(ranked);
    expect(ranked.tokens).toBe(ids.reduce((sum, s) => sum + s.length, 0));
    await expect(reranker.rankPairIds(ids.slice(1), documents)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('normalize applies a sigmoid (option of the call or of load)', async () => {
    const cases = pairs().slice(0, 4);
    const raw = await reranker.computeScore(cases);
    const normalized = await reranker.computeScore(cases, { normalize: true });
    normalized.forEach((s, i) => expect(s).toBeCloseTo(1 / (1 + Math.exp(-raw[i])), 12));
    const byDefault = await FlagReranker.load(path, { threads: 1, normalize: true });
    try {
      expect(await byDefault.computeScore(cases[0])).toBeCloseTo(normalized[0], 6);
    } finally {
      await byDefault.dispose();
    }
  });

  it("agrees with llama.cpp's rank pooling as node-llama-cpp's ranking context runs it", async () => {
    const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
    const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error, build: 'never' });
    const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
    const context = await model.createRankingContext({ contextSize: 512, batchSize: 512 });
    try {
      // node-llama-cpp's rank() takes seconds per call on this 250k vocabulary: a few pairs
      const cases = pairs().filter(([q, p]) => plain(q).length + plain(p).length + 4 <= 384).slice(0, 3);
      // llama.cpp's context runs flash attention on CPU: compare with ours on the same kernel
      const sameKernel = await FlagReranker.load(path, { threads: 2, flashAttention: true });
      const ours = await sameKernel.computeScore(cases, { normalize: true }).finally(() => sameKernel.dispose());
      let maxDiff = 0;
      for (let i = 0; i < cases.length; i++) {
        const theirs = await context.rank(plain(cases[i][0]) as never, plain(cases[i][1]) as never);
        maxDiff = Math.max(maxDiff, Math.abs(ours[i] - theirs));
      }
      console.log(`reranker vs node-llama-cpp LlamaRankingContext (sigmoid scores, ${cases.length} pairs): max diff ${maxDiff.toExponential(3)}`);
      expect(maxDiff).toBeLessThanOrEqual(2e-5);
    } finally {
      await context.dispose();
      await model.dispose();
    }
  });

  it('the node-llama-cpp fallback engine gives the same scores', async () => {
    const fallback = await FlagReranker.load(path, { threads: 2, engine: 'node-llama-cpp' });
    try {
      expect(fallback.engineKind).toBe('node-llama-cpp');
      const cases = pairs().slice(0, 2);
      const theirs = await fallback.computeScore(cases);
      cases.forEach((pair, i) => expect(Math.abs(theirs[i] - referenceRerankScore(weights, referenceIds(pair)))).toBeLessThanOrEqual(3e-4));
    } finally {
      await fallback.dispose();
    }
  });

  it('rejects a GGUF without a classifier head, and bad input, with typed errors', async () => {
    const error = await FlagReranker.load(fixturePath('tiny-bert-f32.gguf'), { threads: 1 }).catch((e) => e);
    expect(error).toBeInstanceOf(BgeGgufError);
    expect(error.code).toBe('UNSUPPORTED_MODEL');
    for (const bad of [['only one'], 'text', [['a', 1]], null]) {
      const e = await reranker.computeScore(bad as never).catch((x) => x);
      expect(e?.code, JSON.stringify(bad)).toBe('INVALID_INPUT');
    }
    const e = await reranker.computeScore(['a', 'b'], { maxLength: 600 }).catch((x) => x);
    expect(e?.code).toBe('INVALID_INPUT');
    expect(await reranker.computeScore([])).toEqual([]);
  });
});
