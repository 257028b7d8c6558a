/**
 * bge-m3 through `bge-gguf serve` (a real server process) and `bge-gguf embed`: /embed's
 * return_sparse / return_colbert, /v1/embeddings' dense vectors and `embed --sparse --colbert` equal
 * BGEM3FlagModel's in-process outputs exactly (float32 values survive the JSON round trip); without
 * the heads sidecar, or on a model that is not BGE-M3, asking for them is a 400 / CLI error.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BGEM3FlagModel } from '../src/api/BGEM3FlagModel.js';
import { FlagAutoModel } from '../src/api/FlagAutoModel.js';
import { convertM3Heads } from '../src/convert/m3Heads.js';
import { missingM3Heads } from '../src/heads/m3HeadsFile.js';
import { buildApp } from '../src/server/app.js';
import { ModelHost } from '../src/server/modelHost.js';
import { runCli, startServer, type ServerProcess } from './support/serverProcess.js';
import { writeSyntheticM3 } from './support/synthetic/m3.js';
import { xlmrVocabPath } from './support/xlmrFixture.js';

const dir = join(resolve(dirname(fileURLToPath(import.meta.url))), 'fixtures', `m3-server-${process.pid}`);
/** Named like the registry's bge-m3, so FlagAutoModel (and so the CLI and server) load it as BGEM3FlagModel. */
const modelPath = join(dir, 'bge-m3.gguf');
const noHeadsPath = join(dir, 'no-heads', 'bge-m3.gguf');

const texts = [
  'What is BGE M3?',
  'BGE M3 is an embedding model supporting dense retrieval, lexical matching and multi-vector interaction.',
  'the the the cat sat on the mat the end',
  'Wie heißt die Hauptstadt von Frankreich? Paris est la capitale de la France. 巴黎是法国的首都。',
  'x',
];

let model: BGEM3FlagModel;
let server: ServerProcess;

const rows = (vectors: Float32Array[]) => vectors.map((v) => Array.from(v));

beforeAll(async () => {
  const written = await writeSyntheticM3(dir, { layers: 2, hidden: 32, heads: 4, ffn: 64, maxPositions: 1024, seed: 20251205, vocabGguf: xlmrVocabPath() });
  copyFileSync(written.modelPath, modelPath);
  await convertM3Heads(dir, modelPath);
  mkdirSync(dirname(noHeadsPath));
  copyFileSync(written.modelPath, noHeadsPath);
  const auto = await FlagAutoModel.fromFinetuned(modelPath, { threads: 2 });
  expect(auto).toBeInstanceOf(BGEM3FlagModel);
  model = auto as BGEM3FlagModel;
  server = await startServer(['--model', modelPath, '--threads', '2']);
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await model?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${server.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

describe('bge-gguf serve with bge-m3', () => {
  it('/embed returns dense, lexical_weights and colbert_vecs equal to BGEM3FlagModel.encodeCorpus', async () => {
    const { status, json } = await post('/embed', { texts, return_sparse: true, return_colbert: true });
    expect(status).toBe(200);
    const want = await model.encodeCorpus(texts, { returnSparse: true, returnColbertVecs: true });
    expect(json.embeddings).toEqual(rows(want.denseVecs!));
    expect(json.lexical_weights).toEqual(want.lexicalWeights);
    expect(json.colbert_vecs).toEqual(want.colbertVecs!.map(rows));
    expect(Object.keys(json.lexical_weights[2]).length).toBeGreaterThan(0);
    expect(json.colbert_vecs[0].length).toBe(model.tokenize(texts[0]).length - 1);
    expect(json.usage.tokens).toBe(texts.reduce((n, t) => n + model.tokenize(t).length, 0));
  });

  it('/embed with type query uses encodeQueries; only what was asked is answered', async () => {
    const sparse = await post('/embed', { texts: texts.slice(0, 2), type: 'query', return_sparse: true });
    expect(sparse.status).toBe(200);
    const want = await model.encodeQueries(texts.slice(0, 2), { returnSparse: true });
    expect(sparse.json.embeddings).toEqual(rows(want.denseVecs!));
    expect(sparse.json.lexical_weights).toEqual(want.lexicalWeights);
    expect(sparse.json).not.toHaveProperty('colbert_vecs');
    const colbert = await post('/embed', { texts: texts[3], return_colbert: true });
    expect(colbert.json).not.toHaveProperty('lexical_weights');
    expect(colbert.json.colbert_vecs).toEqual([rows((await model.encodeCorpus(texts[3], { returnColbertVecs: true })).colbertVecs!)]);
    const dense = await post('/embed', { texts });
    expect(dense.json.embeddings).toEqual(rows((await model.encodeCorpus(texts)).denseVecs!));
    expect(Object.keys(dense.json).sort()).toEqual(['embeddings', 'model', 'usage']);
  });

  it('/v1/embeddings stays dense (float, base64, dimensions, token ids) as BGEM3FlagModel', async () => {
    const dense = (await model.encodeCorpus(texts)).denseVecs!;
    const float = await post('/v1/embeddings', { input: texts });
    expect(float.status).toBe(200);
    expect(float.json.data.map((d: { embedding: number[] }) => d.embedding)).toEqual(rows(dense));
    const base64 = await post('/v1/embeddings', { input: texts, encoding_format: 'base64' });
    const decoded = base64.json.data.map((d: { embedding: string }) => {
      const bytes = Buffer.from(d.embedding, 'base64');
      return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    });
    expect(decoded).toEqual(rows(dense));
    // one text alone is its own decode (in default mode a vector may move in the last digits with its batch)
    const alone = (await model.encodeCorpus([texts[1]])).denseVecs![0];
    const cut = await post('/v1/embeddings', { input: texts[1], dimensions: 8 });
    const head = Array.from(alone.subarray(0, 8));
    const norm = Math.hypot(...head);
    cut.json.data[0].embedding.forEach((x: number, i: number) => expect(Math.abs(x - head[i] / norm)).toBeLessThan(1e-6));
    const ids = await post('/v1/embeddings', { input: [Array.from(model.tokenize(texts[1]))] });
    const viaIds: number[] = ids.json.data[0].embedding;
    const dot = viaIds.reduce((s, x, i) => s + x * alone[i], 0);
    expect(dot).toBeGreaterThan(0.999999);
  });

  it('return_sparse must be a boolean', async () => {
    const { status } = await post('/embed', { texts: ['a'], return_sparse: 'yes' });
    expect(status).toBe(400);
  });
});

describe('bge-gguf serve with a bge-m3 GGUF without its heads', () => {
  let host: ModelHost;
  let app: FastifyInstance;
  beforeAll(async () => {
    host = await ModelHost.start({ model: noHeadsPath, threads: 1 }, 'bge-m3');
    ({ app } = await buildApp({ model: host, modelName: 'bge-m3', limits: { maxTokensPerRequest: 40 } }));
    await app.ready();
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await host?.close();
  });

  it('answers dense vectors, and a 400 with BGEM3FlagModel’s message for sparse or ColBERT', async () => {
    const dense = await app.inject({ method: 'POST', url: '/embed', payload: { texts: [texts[0]] } });
    expect(dense.statusCode).toBe(200);
    expect(dense.json().embeddings).toEqual(rows((await model.encodeCorpus([texts[0]])).denseVecs!));
    for (const ask of [{ return_sparse: true }, { return_colbert: true }]) {
      const response = await app.inject({ method: 'POST', url: '/embed', payload: { texts: [texts[0]], ...ask } });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.message).toBe(missingM3Heads(noHeadsPath).message);
      expect(response.json().error.param).toBe(Object.keys(ask)[0]);
    }
  });

  it('counts the tokens BGEM3FlagModel embeds against --max-tokens-per-request', async () => {
    for (const texts of [[`${'word '.repeat(50)}`], Array.from({ length: 70 }, () => 'word '.repeat(50))]) {
      const response = await app.inject({ method: 'POST', url: '/embed', payload: { texts } });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('too_many_tokens');
    }
  });
});

describe('bge-gguf embed --sparse --colbert', () => {
  it('jsonl records carry lexical_weights and colbert_vecs equal to BGEM3FlagModel (json too)', async () => {
    const out = await runCli(['embed', '--model', modelPath, '--threads', '2', '--sparse', '--colbert', ...texts]);
    expect(out.code, out.stderr).toBe(0);
    const records = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const want = await model.encodeCorpus(texts, { returnSparse: true, returnColbertVecs: true });
    const f32 = (xs: number[]) => xs.map(Math.fround);
    expect(records.map((r) => r.index)).toEqual(texts.map((_, i) => i));
    expect(records.map((r) => f32(r.embedding))).toEqual(rows(want.denseVecs!));
    expect(records.map((r) => Object.fromEntries(Object.entries(r.lexical_weights as Record<string, number>).map(([k, v]) => [k, Math.fround(v)])))).toEqual(want.lexicalWeights);
    expect(records.map((r) => r.colbert_vecs.map(f32))).toEqual(want.colbertVecs!.map(rows));

    const json = await runCli(['embed', '--model', modelPath, '--threads', '2', '--sparse', '--query', '--format', 'json', texts[0]]);
    expect(json.code, json.stderr).toBe(0);
    const [record] = JSON.parse(json.stdout);
    const query = await model.encodeQueries(texts[0], { returnSparse: true });
    expect(Object.keys(record).sort()).toEqual(['embedding', 'lexical_weights']);
    expect(f32(record.embedding)).toEqual(Array.from(query.denseVecs!));
    expect(Object.keys(record.lexical_weights).sort()).toEqual(Object.keys(query.lexicalWeights!).sort());
  });

  it('refuses other formats, a GGUF without heads and a model that is not BGE-M3, saying why', async () => {
    const csv = await runCli(['embed', '--model', modelPath, '--colbert', '--format', 'csv', 'hi']);
    expect(csv.code).not.toBe(0);
    expect(csv.stderr).toMatch(/--format jsonl or --format json/);
    const noHeads = await runCli(['embed', '--model', noHeadsPath, '--threads', '1', '--sparse', 'hi']);
    expect(noHeads.code).not.toBe(0);
    expect(noHeads.stderr).toContain(missingM3Heads(noHeadsPath).message);
    const bert = await runCli(['embed', '--sparse', 'hi']);
    expect(bert.code).not.toBe(0);
    expect(bert.stderr).toMatch(/BGE-M3 outputs; this model is a FlagModel/);
  });
});
