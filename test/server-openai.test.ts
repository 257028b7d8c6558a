import { OpenAIEmbeddings } from '@langchain/openai';
import OpenAI from 'openai';
import OpenAIv4 from 'openai-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagModel } from '../src/api/FlagModel.js';
import { startServer, type ServerProcess } from './support/serverProcess.js';

const texts = ['The cat sat on the mat.', 'A feline rested on a rug.', 'Stock markets fell sharply today.'];

/** The first n values renormalized, in float64 (an independent reference for `dimensions`). */
function firstDims(v: Float32Array, n: number): number[] {
  const head = Array.from(v.subarray(0, n));
  const norm = Math.hypot(...head);
  return head.map((x) => x / norm);
}

describe('bge-gguf serve with the official OpenAI clients (real server process, embedded model)', () => {
  let server: ServerProcess;
  let model: FlagModel;
  let reference: Float32Array[];
  /** Each text encoded alone: a one-text request must match it (llama.cpp's small-batch kernels differ by ~1e-9). */
  let alone: Float32Array[];

  beforeAll(async () => {
    [server, model] = await Promise.all([startServer(), FlagModel.load(undefined)]);
    reference = await model.encodeCorpus(texts);
    alone = [];
    for (const t of texts) alone.push(await model.encodeCorpus(t));
  });

  afterAll(async () => {
    await Promise.all([server?.stop(), model?.dispose()]);
  });

  it('openai (latest) at default settings (base64) returns the library vectors, usage and the model name', async () => {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${server.base}/v1` });
    const response = await client.embeddings.create({ model: 'my-model', input: texts });
    expect(response.model).toBe('my-model');
    expect(response.data.map((d) => d.index)).toEqual([0, 1, 2]);
    response.data.forEach((d, i) => expect(d.embedding).toEqual(Array.from(reference[i])));
    const tokens = texts.reduce((sum, t) => sum + model.tokenize(t).length, 0);
    expect(response.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
  });

  it('openai (latest): float format, one string, dimensions, token ids', async () => {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${server.base}/v1` });
    const floats = await client.embeddings.create({ model: 'm', input: texts[0], encoding_format: 'float' });
    expect(floats.data[0].embedding).toEqual(Array.from(alone[0]));
    const short = await client.embeddings.create({ model: 'm', input: texts, dimensions: 32 });
    short.data.forEach((d, i) => {
      expect(d.embedding).toHaveLength(32);
      firstDims(reference[i], 32).forEach((x, k) => expect(d.embedding[k]).toBeCloseTo(x, 6));
    });
    const ids = texts.map((t) => Array.from(model.tokenize(t)));
    const fromIds = await client.embeddings.create({ model: 'm', input: ids });
    fromIds.data.forEach((d, i) => expect(d.embedding).toEqual(Array.from(reference[i])));
    const content = ids[0].slice(1, -1); // without [CLS]/[SEP]: the server adds them
    const one = await client.embeddings.create({ model: 'm', input: content });
    expect(one.data[0].embedding).toEqual(Array.from(alone[0]));
  });

  it('openai (latest): errors are OpenAI-shaped with status, type, param and code', async () => {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${server.base}/v1`, maxRetries: 0 });
    const fail = (body: Parameters<typeof client.embeddings.create>[0]) => client.embeddings.create(body).then(() => null, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    const tooWide = await fail({ model: 'm', input: 'x', dimensions: 385 });
    expect(tooWide).toBeInstanceOf(OpenAI.BadRequestError);
    expect(tooWide?.status).toBe(400);
    expect(tooWide?.error).toMatchObject({ type: 'invalid_request_error', param: 'dimensions', code: 'invalid_value' });
    const badId = await fail({ model: 'm', input: [[1, 2, 10_000_000]] });
    expect(badId?.status).toBe(400);
    expect(badId?.message).toMatch(/not a token id/);
    expect((await fail({ model: 'm', input: '' }))?.status).toBe(400);
    expect((await fail({ model: 'm', input: [] as string[] }))?.status).toBe(400);
  });

  it('lists the model on /v1/models', async () => {
    const client = new OpenAI({ apiKey: 'unused', baseURL: `${server.base}/v1` });
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    expect(models).toEqual(['all-MiniLM-L6-v2']);
  });

  it('openai v4 at default settings returns the library vectors', async () => {
    const client = new OpenAIv4({ apiKey: 'unused', baseURL: `${server.base}/v1` });
    const response = await client.embeddings.create({ model: 'text-embedding-3-small', input: texts });
    response.data.forEach((d, i) => expect(d.embedding).toEqual(Array.from(reference[i])));
    const floats = await client.embeddings.create({ model: 'm', input: texts, encoding_format: 'float' });
    floats.data.forEach((d, i) => expect(d.embedding).toEqual(Array.from(reference[i])));
  });

  it("LangChain's OpenAIEmbeddings at default settings returns the library vectors", async () => {
    const embeddings = new OpenAIEmbeddings({ apiKey: 'unused', configuration: { baseURL: `${server.base}/v1` } });
    const docs = await embeddings.embedDocuments(texts);
    docs.forEach((d, i) => expect(d).toEqual(Array.from(reference[i])));
    expect(await embeddings.embedQuery(texts[1])).toEqual(Array.from(alone[1]));
  });
});
