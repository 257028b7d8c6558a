import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagModel } from '../src/api/FlagModel.js';
import { createEmbeddingServer } from '../src/server/server.js';
import { fixturePath } from './support/fixtures.js';

describe('HTTP server', () => {
  let model: FlagModel;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    model = await FlagModel.load(fixturePath('tiny-bert-f32.gguf'), { threads: 2 });
    server = createEmbeddingServer(model, { maxBodyBytes: 4096, maxTexts: 8, modelName: 'tiny' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await model.dispose();
  });

  const post = (path: string, body: string) => fetch(base + path, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  it('reports health', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', model: 'tiny', dimension: 64 });
  });

  it('embeds passages and queries with the same vectors as the library', async () => {
    const texts = ['embedding', 'I love machine learning and nlp'];
    const res = await post('/embed', JSON.stringify({ texts }));
    expect(res.status).toBe(200);
    const { embeddings } = (await res.json()) as { embeddings: number[][] };
    const direct = await model.encodeCorpus(texts);
    embeddings.forEach((e, i) => expect(e).toEqual(Array.from(direct[i])));
  });

  it('speaks the OpenAI embeddings format', async () => {
    const res = await post('/v1/embeddings', JSON.stringify({ input: 'hello world' }));
    const body = (await res.json()) as { data: { index: number; embedding: number[] }[] };
    expect(body.data).toHaveLength(1);
    expect(body.data[0].index).toBe(0);
    expect(body.data[0].embedding).toHaveLength(64);
  });

  it('answers bad requests with 4xx JSON errors and keeps serving', async () => {
    const cases: [string, string, number][] = [
      ['/embed', '{not json', 400],
      ['/embed', '[1,2]', 400],
      ['/embed', JSON.stringify({ texts: [1, 2] }), 400],
      ['/embed', JSON.stringify({ texts: [] }), 400],
      ['/embed', JSON.stringify({ texts: new Array(9).fill('x') }), 400],
      ['/embed', JSON.stringify({ texts: ['a'], type: 'weird' }), 400],
      ['/embed', JSON.stringify({ texts: ['x'.repeat(5000)] }), 413],
      ['/nope', '{}', 404],
    ];
    for (const [path, body, status] of cases) {
      const res = await post(path, body);
      expect(res.status, `${path} ${body.slice(0, 30)}`).toBe(status);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBeTruthy();
    }
    expect((await fetch(`${base}/embed`)).status).toBe(405);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
