/**
 * `bge-gguf rerank` (src/cli/rerank.ts) and the POST /v1/rerank route (src/server/routes/rerank.ts, the
 * reranker in a model worker) on a synthetic XLM-R reranker: sorted output, top_n, documents, usage,
 * scores against the float64 reference, and 400s for bad requests.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagReranker } from '../src/api/FlagReranker.js';
import { runRerank } from '../src/cli/rerank.js';
import { buildApp } from '../src/server/app.js';
import { ModelHost } from '../src/server/modelHost.js';
import { DOCUMENTS, QUERY, writeXlmrFixture } from './support/xlmrFixture.js';
import { referenceRerankScore } from './support/xlmrReference.js';
import type { XlmrWeights } from './support/synthetic/xlmr.js';


let path: string;
let weights: XlmrWeights;
let reranker: FlagReranker;
let app: FastifyInstance;
let host: ModelHost;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

beforeAll(async () => {
  ({ path, weights } = await writeXlmrFixture('xlmr-cli-server.gguf'));
  reranker = await FlagReranker.load(path, { threads: 2 });
  host = await ModelHost.start({ model: path, threads: 2 }, 'tiny-xlmr');
  ({ app } = await buildApp({ model: host, modelName: 'tiny-xlmr', limits: { maxTexts: 8, maxTokensPerRequest: 300 } }));
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await host?.close();
  await reranker?.dispose();
});

/** The reference score of each document, from the pair ids the model sees. */
async function referenceScores(): Promise<number[]> {
  const ids = await reranker.pairIds(DOCUMENTS.map((d): [string, string] => [QUERY, d]));
  return ids.map((s) => referenceRerankScore(weights, s));
}

describe('bge-gguf rerank', () => {
  it('prints every document, best first, with its score (JSON lines)', async () => {
    const lines: string[] = [];
    expect(await runRerank({ model: path, query: QUERY, documents: DOCUMENTS, json: true, threads: 2 }, (l) => lines.push(l))).toBe(0);
    const rows = lines.map((l) => JSON.parse(l) as { index: number; score: number; document: string });
    expect(rows.map((r) => r.index).sort()).toEqual([0, 1, 2, 3, 4]);
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1].score).toBeGreaterThanOrEqual(rows[i].score);
    const want = await referenceScores();
    for (const r of rows) {
      expect(r.document).toBe(DOCUMENTS[r.index]);
      expect(Math.abs(r.score - want[r.index])).toBeLessThanOrEqual(3e-4);
    }
  });

  it('table output, --top-n and --normalize', async () => {
    const lines: string[] = [];
    await runRerank({ model: path, query: QUERY, documents: DOCUMENTS, topN: 2, normalize: true, threads: 1 }, (l) => lines.push(l));
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      const m = /^\s*(\d\.\d{6})\s+\[(\d)\] (.*)$/.exec(line);
      expect(m, line).not.toBeNull();
      expect(DOCUMENTS[Number(m![2])]).toBe(m![3]);
    }
    const error = await runRerank({ model: path, query: QUERY, documents: [] }).catch((e) => e);
    expect(error.code).toBe('INVALID_INPUT');
  });
});

describe('POST /v1/rerank', () => {
  it('returns results sorted by relevance_score (sigmoid), top_n, documents on request, usage', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/rerank',
      payload: { model: 'bge-reranker-v2-m3', query: QUERY, documents: [DOCUMENTS[0], { text: DOCUMENTS[1] }, ...DOCUMENTS.slice(2)], top_n: 3, return_documents: true },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.model).toBe('bge-reranker-v2-m3');
    expect(body.results).toHaveLength(3);
    const want = (await referenceScores()).map(sigmoid);
    const best = [...want.keys()].sort((a, b) => want[b] - want[a]).slice(0, 3);
    expect(body.results.map((r: { index: number }) => r.index)).toEqual(best);
    for (const r of body.results) {
      expect(Math.abs(r.relevance_score - want[r.index])).toBeLessThanOrEqual(1e-4);
      expect(r.document).toEqual({ text: DOCUMENTS[r.index] });
    }
    expect(body.usage.total_tokens).toBeGreaterThan(20);
  });

  it('/rerank alias, raw_scores, no documents by default', async () => {
    const res = await app.inject({ method: 'POST', url: '/rerank', payload: { query: QUERY, documents: DOCUMENTS, raw_scores: true } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.model).toBe('tiny-xlmr');
    expect(body.results).toHaveLength(DOCUMENTS.length);
    expect(body.results[0].document).toBeUndefined();
    const want = await referenceScores();
    for (const r of body.results) expect(Math.abs(r.relevance_score - want[r.index])).toBeLessThanOrEqual(3e-4);
  });

  it('400 over the server limits: documents per request, tokens per request (counted before scoring)', async () => {
    const tooMany = await app.inject({ method: 'POST', url: '/v1/rerank', payload: { query: QUERY, documents: Array(9).fill('x') } });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error).toMatchObject({ type: 'invalid_request_error', param: 'documents' });
    const long = Array.from({ length: 4 }, (_, i) => `document ${i} ${'lorem ipsum dolor sit amet '.repeat(20)}`);
    const tokens = await app.inject({ method: 'POST', url: '/v1/rerank', payload: { query: QUERY, documents: long } });
    expect(tokens.statusCode).toBe(400);
    expect(tokens.json().error).toMatchObject({ code: 'too_many_tokens', param: 'input' });
  });

  it('400 for a bad request', async () => {
    for (const payload of [{ documents: ['a'] }, { query: 'q' }, { query: 'q', documents: 'a' }, { query: 'q', documents: ['a'], top_n: 0 }, { query: 'q', documents: [{ nope: 1 }] }]) {
      const res = await app.inject({ method: 'POST', url: '/v1/rerank', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error).toMatchObject({ type: 'invalid_request_error' });
    }
  });
});
