import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagModel } from '../src/api/FlagModel.js';
import { fixturePath } from './support/fixtures.js';

const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));
const texts = Array.from({ length: 23 }, (_, i) => `sentence number ${i} about ${['cats', 'dogs', 'markets', 'rivers'][i % 4]}`);

describe('progress, batch streaming and token-id inputs', () => {
  let model: FlagModel;
  beforeAll(async () => {
    model = await FlagModel.load(fixturePath('tiny-bert-f32.gguf'), { threads: 1, batchInvariant: true });
  });
  afterAll(async () => model?.dispose());

  it('onProgress reports {done, total} from 0 to all texts, and the tokens embedded', async () => {
    const seen: { done: number; total: number; tokens: number; totalTokens: number }[] = [];
    await model.encodeCorpus(texts, { batchSize: 5, onProgress: (p) => seen.push({ ...p }) });
    expect(seen[0]).toMatchObject({ done: 0, total: 23, tokens: 0 });
    expect(seen.at(-1)).toMatchObject({ done: 23, total: 23 });
    expect(seen.length).toBeGreaterThanOrEqual(1 + Math.ceil(23 / 5));
    const allTokens = texts.reduce((sum, t) => sum + model.tokenize(t).length, 0);
    expect(seen.at(-1)!.tokens).toBe(allTokens);
    expect(seen.every((p) => p.totalTokens === allTokens)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i].done).toBeGreaterThan(seen[i - 1].done);
  });

  it('encodeBatches streams batches in order with the same vectors as one encode call', async () => {
    const whole = await model.encodeCorpus(texts);
    async function* source() {
      yield* texts; // an async iterable: the corpus never has to be one array
    }
    const got: { index: number; count: number }[] = [];
    const streamed: Float32Array[] = [];
    for await (const { index, vectors } of model.encodeBatches(source(), { batchSize: 7 })) {
      got.push({ index, count: vectors.length });
      streamed.push(...vectors);
    }
    expect(got).toEqual([
      { index: 0, count: 7 },
      { index: 7, count: 7 },
      { index: 14, count: 7 },
      { index: 21, count: 2 },
    ]);
    // batches of 7 instead of 23 change llama.cpp's kernel choice: equal up to float rounding
    streamed.forEach((v, i) => expect(maxDiff(v, whole[i])).toBeLessThan(1e-5));
    const queries = [];
    for await (const { vectors } of model.encodeBatches(texts.slice(0, 3), { kind: 'queries' })) queries.push(...vectors);
    const direct = await model.encodeQueries(texts.slice(0, 3));
    queries.forEach((v, i) => expect(maxDiff(v, direct[i])).toBeLessThan(1e-5));
  });

  it('encodeBatches stops when its signal aborts', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const run = async () => {
      for await (const { index } of model.encodeBatches(texts, { batchSize: 4, signal: controller.signal })) {
        seen.push(index);
        controller.abort();
      }
    };
    await expect(run()).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(seen).toEqual([0]);
  });

  it('encodeTokenIds embeds ids with or without [CLS]/[SEP] like the text, truncates, and rejects unknown ids', async () => {
    const text = 'the quick brown fox jumps';
    const ids = Array.from(model.tokenize(text));
    const fromText = await model.encodeCorpus(text);
    const [withSpecials, contentOnly] = await model.encodeTokenIds([ids, ids.slice(1, -1)]);
    expect(withSpecials).toEqual(fromText);
    expect(contentOnly).toEqual(fromText);
    const long = 'word '.repeat(100);
    const [cut] = await model.encodeTokenIds([Array.from(model.tokenize(long, 512)).slice(1, -1)], { maxLength: 16 });
    expect(cut).toEqual(await model.encodeCorpus(long, { maxLength: 16 }));
    await expect(model.encodeTokenIds([[1, 2, model.modelInfo.vocabSize]])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(model.encodeTokenIds([[]])).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
