/**
 * FlagICLModel on a tiny synthetic Mistral GGUF (2 layers, hidden 64, 4 heads / 2 KV heads, SwiGLU
 * 128, real Llama SentencePiece vocab) vs an independent float64 forward pass
 * (test/support/mistralReference.ts) on the generator's weights in Hugging Face layout.
 * Token assembly itself is checked piece by piece in icl-prompt.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagAutoModel } from '../src/api/FlagAutoModel.js';
import { FlagICLModel } from '../src/api/FlagICLModel.js';
import { BgeGgufError, DisposedError, InvalidInputError } from '../src/errors.js';
import { readGguf } from '../src/gguf/reader.js';
import { GgmlType } from '../src/gguf/types.js';
import { permuteRopeRows, type MistralWeights } from './support/synthetic/mistral.js';
import { fixturePath } from './support/fixtures.js';
import { EXAMPLES, TASK } from './support/iclTutorial.js';
import { spmVocabPath, writeMistralFixture } from './support/mistralFixture.js';
import { cosine, mistralEmbedding } from './support/mistralReference.js';

const QUERIES = ['how much protein should a female eat', 'summit define'];
const DOCUMENTS = [
  "As a general guideline, the CDC's average requirement of protein for women ages 19 to 70 is 46 grams per day. But, as you can see from this chart, you'll need to increase that if you're expecting or training for a marathon. Check out the chart below to see how much protein you should be eating each day.",
  'Definition of summit for English Language Learners. : 1  the highest point of a mountain : the top of a mountain. : 2  the highest level. : 3  a meeting or series of meetings between the leaders of two or more governments.',
];
const MORE_QUERIES = ['a', 'what is the capital of france?', 'how do vaccines train the immune system to recognise a virus', ...QUERIES];

let weights: MistralWeights;
let path: string;
let plain: FlagICLModel; // zero-shot, with a query instruction
let fewShot: FlagICLModel; // the tutorial's examples, no query instruction

function minCosine(vectors: Float32Array[], sequences: Int32Array[], w: MistralWeights = weights): number {
  return Math.min(...vectors.map((v, i) => cosine(v, mistralEmbedding(w, sequences[i]))));
}

beforeAll(async () => {
  ({ path, weights } = await writeMistralFixture('icl-mistral-f32.gguf', { type: GgmlType.F32 }));
  plain = await FlagICLModel.load(path, { queryInstructionForRetrieval: TASK, threads: 2, batchSize: 4 });
  fewShot = await FlagICLModel.load(path, { examplesForTask: EXAMPLES, threads: 2 });
});
afterAll(async () => {
  await plain?.dispose();
  await fewShot?.dispose();
});

describe("the engine's tokenizer in the assembly", () => {
  it('gives the hand-worked pieces: whole-string tokenization after the prefix, suffix, </s> last', async () => {
    const tokens = (await readGguf(spmVocabPath())).metadata.get('tokenizer.ggml.tokens')!.value as string[];
    const id = (piece: string) => tokens.indexOf(piece);
    const [ids] = fewShot.tokenizeQueries(['hello world']);
    expect(Array.from(ids.slice(0, 5))).toEqual(['<s>', '▁<', 'inst', 'ruct', '>'].map(id));
    expect(Array.from(ids.slice(-9))).toEqual(['<0x0A>', '<0x0A>', 'hello', '▁world', '<0x0A>', '<', 'response', '>', '</s>'].map(id));
    // the instructed query is decoded and re-tokenized: the decode must not leave SentencePiece's leading space
    const [zeroShot] = plain.tokenizeQueries(['hello']);
    expect(Array.from(zeroShot.slice(0, 5))).toEqual(['<s>', '▁<', 'inst', 'ruct', '>'].map(id));
    expect(Array.from(zeroShot.slice(-8))).toEqual(['query', '>', 'hello', '<0x0A>', '<', 'response', '>', '</s>'].map(id));
  });
});

describe('F32 synthetic Mistral vs float64 reference', () => {
  it('zero-shot queries (instruction + suffix), batched: cosine >= 0.99999', async () => {
    const vectors = await plain.encodeQueries(MORE_QUERIES);
    const sequences = plain.tokenizeQueries(MORE_QUERIES);
    for (const s of sequences) {
      expect(s[0]).toBe(1); // <s>
      expect(s[s.length - 1]).toBe(2); // </s>
    }
    expect(minCosine(vectors, sequences)).toBeGreaterThanOrEqual(0.99999);
  });

  it('few-shot queries (two long examples in front): cosine >= 0.99999', async () => {
    const vectors = await fewShot.encodeQueries(MORE_QUERIES);
    const sequences = fewShot.tokenizeQueries(MORE_QUERIES);
    expect(Math.min(...sequences.map((s) => s.length))).toBeGreaterThan(150); // the examples are in
    expect(minCosine(vectors, sequences)).toBeGreaterThanOrEqual(0.99999);
  });

  it('passages (<s> … </s>, no prefix or suffix), including one cut at passageMaxLength: cosine >= 0.99999', async () => {
    const long = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
    const short = await FlagICLModel.load(path, { passageMaxLength: 64, threads: 2 });
    try {
      const texts = [...DOCUMENTS, long];
      const vectors = await short.encodeCorpus(texts);
      const sequences = texts.map((t) => short.tokenize(t));
      expect(sequences[2].length).toBe(64);
      expect(minCosine(vectors, sequences)).toBeGreaterThanOrEqual(0.99999);
    } finally {
      await short.dispose();
    }
  });

  it('agrees only because the GGUF holds llama.cpp-permuted Q/K: HF rows used as-is disagree', async () => {
    // If our writer skipped the permutation (or llama.cpp used another RoPE layout) the file would
    // behave like this reference; it must not match, or the check above would prove nothing.
    const unpermuted: MistralWeights = {
      ...weights,
      layers: weights.layers.map((l) => ({
        ...l,
        q: { ...l.q, weight: permuteRopeRows(l.q.weight, weights.config.heads, weights.config.hidden) },
        k: { ...l.k, weight: permuteRopeRows(l.k.weight, weights.config.kvHeads, weights.config.hidden) },
      })),
    };
    const vectors = await plain.encodeQueries(MORE_QUERIES);
    expect(minCosine(vectors, plain.tokenizeQueries(MORE_QUERIES), unpermuted)).toBeLessThan(0.99);
  });

  it('pools the last token exactly under batching: alone == batched', async () => {
    const batched = await fewShot.encodeQueries(MORE_QUERIES);
    for (let i = 0; i < MORE_QUERIES.length; i++) {
      const alone = await fewShot.encodeQueries(MORE_QUERIES[i]);
      expect(cosine(alone, batched[i])).toBeGreaterThanOrEqual(0.999999);
      expect(Math.max(...alone.map((v, k) => Math.abs(v - batched[i][k])))).toBeLessThan(1e-5);
    }
  });

  it('returns raw last hidden states with normalizeEmbeddings: false', async () => {
    const raw = await FlagICLModel.load(path, { normalizeEmbeddings: false, threads: 2 });
    try {
      const [v] = await raw.encode(['hello world']);
      const ref = mistralEmbedding(weights, raw.tokenize('hello world'), false);
      const refNorm = Math.hypot(...ref);
      expect(Math.abs(Math.hypot(...v) - refNorm) / refNorm).toBeLessThan(1e-4);
      expect(cosine(v, ref)).toBeGreaterThanOrEqual(0.99999);
    } finally {
      await raw.dispose();
    }
  });
});

describe('F16 and Q8_0 files vs the reference on their rounded weights', () => {
  for (const [type, name, bound] of [
    [GgmlType.F16, 'f16', 0.99999],
    [GgmlType.Q8_0, 'q8_0', 0.998], // llama.cpp also quantizes activations to 8 bits for Q8_0 matmuls
  ] as const) {
    it(`${name}: few-shot queries and passages, cosine >= ${bound}`, async () => {
      const fixture = await writeMistralFixture(`icl-mistral-${name}.gguf`, { type });
      const model = await FlagICLModel.load(fixture.path, { examplesForTask: EXAMPLES, queryInstructionForRetrieval: TASK, threads: 2 });
      try {
        const queries = await model.encodeQueries(QUERIES);
        const passages = await model.encodeCorpus(DOCUMENTS);
        expect(minCosine(queries, model.tokenizeQueries(QUERIES), fixture.weights)).toBeGreaterThanOrEqual(bound);
        expect(minCosine(passages, DOCUMENTS.map((d) => model.tokenize(d)), fixture.weights)).toBeGreaterThanOrEqual(bound);
      } finally {
        await model.dispose();
      }
    });
  }
});

describe("the tutorial's example", () => {
  it('encodes two queries with two examples and two documents: shapes, unit norm, order, similarities', async () => {
    const q = await fewShot.encodeQueries(QUERIES);
    const d = await fewShot.encodeCorpus(DOCUMENTS);
    expect(q).toHaveLength(2);
    expect(d).toHaveLength(2);
    for (const v of [...q, ...d]) {
      expect(v).toHaveLength(64);
      expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThan(1e-5);
    }
    // order: each vector is its own input's
    expect(cosine(q[1], await fewShot.encodeQueries(QUERIES[1]))).toBeGreaterThanOrEqual(0.999999);
    expect(cosine(d[0], await fewShot.encodeCorpus(DOCUMENTS[0]))).toBeGreaterThanOrEqual(0.999999);
    // the 2x2 similarity matrix matches the reference's (on this random model, not the real one)
    const refQ = fewShot.tokenizeQueries(QUERIES).map((s) => mistralEmbedding(weights, s));
    const refD = DOCUMENTS.map((t) => mistralEmbedding(weights, fewShot.tokenize(t)));
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) expect(Math.abs(cosine(q[i], d[j]) - cosine(refQ[i], refD[j]))).toBeLessThan(1e-3);
    }
  });
});

describe('examples and options', () => {
  it('setExamples replaces the examples; null goes back to those given at load; clearExamples removes them', async () => {
    const model = await FlagICLModel.load(path, { examplesForTask: EXAMPLES.slice(0, 1), threads: 2 });
    try {
      const one = model.prefix;
      expect(one.startsWith(`<instruct>${TASK}\n<query>what is a virtual interface\n<response>A virtual`)).toBe(true);
      model.setExamples(EXAMPLES);
      expect(model.prefix).toBe(`${one.slice(0, -2)}\n\n<instruct>${TASK}\n<query>${EXAMPLES[1].query}\n<response>${EXAMPLES[1].response}\n\n`);
      model.setExamples(null);
      expect(model.prefix).toBe(one);
      model.clearExamples();
      expect(model.prefix).toBe('');
      const [a] = await model.encodeQueries(['summit define']);
      const [b] = await plain.encode(['summit define\n<response>']); // same text as a passage
      expect(cosine(a, b)).toBeGreaterThanOrEqual(0.999999);
    } finally {
      await model.dispose();
    }
  });

  it('truncateDim keeps the first dimensions, renormalized', async () => {
    const model = await FlagICLModel.load(path, { truncateDim: 16, threads: 2 });
    try {
      const [v] = await model.encodeCorpus(['hello world']);
      expect(v).toHaveLength(16);
      const ref = mistralEmbedding(weights, model.tokenize('hello world'), false).slice(0, 16);
      expect(cosine(v, ref)).toBeGreaterThanOrEqual(0.99999);
    } finally {
      await model.dispose();
    }
  });

  it('refuses a queryMaxLength with no room for the query, at load', async () => {
    await expect(FlagICLModel.load(path, { queryMaxLength: 7, threads: 2 })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it("refuses a few-shot query longer than the model's context, saying what to change", async () => {
    const small = await writeMistralFixture('icl-mistral-ctx128.gguf', { type: GgmlType.F32, contextLength: 128 });
    const model = await FlagICLModel.load(small.path, { examplesForTask: EXAMPLES, threads: 2 });
    try {
      await expect(model.encodeQueries(['summit define'])).rejects.toThrow(/fewer or shorter examples/);
    } finally {
      await model.dispose();
    }
  });

  it('is what FlagAutoModel picks for a GGUF that declares last-token pooling', async () => {
    const messages: string[] = [];
    const model = await FlagAutoModel.fromFinetuned(path, { threads: 2, onFallback: (m) => messages.push(m) });
    try {
      expect(model).toBeInstanceOf(FlagICLModel);
      expect(messages.join()).toMatch(/last-token pooling/);
    } finally {
      await model.dispose();
    }
  });

  it('refuses examples that are not objects and non-string queries', async () => {
    expect(() => fewShot.setExamples([42 as never])).toThrow(InvalidInputError);
    await expect(fewShot.encodeQueries([null as never])).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('refuses an encoder (BERT) GGUF with a pointer to FlagModel', async () => {
    const error = await FlagICLModel.load(fixturePath('tiny-bert-f32.gguf'), { threads: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BgeGgufError);
    expect((error as BgeGgufError).code).toBe('UNSUPPORTED_MODEL');
    expect((error as Error).message).toMatch(/FlagModel/);
  });

  it('throws DisposedError after dispose', async () => {
    const model = await FlagICLModel.load(path, { threads: 2 });
    await model.dispose();
    await expect(model.encodeQueries(['x'])).rejects.toBeInstanceOf(DisposedError);
  });
});
