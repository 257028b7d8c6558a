/**
 * `bge-gguf rerank` (src/cli/rerank.ts) and the POST /v1/rerank fastify plugin (src/server/routes/rerank.ts)
 * on a synthetic XLM-R reranker: sorted output, top_n, documents, usage, scores against the float64
 * reference, and 400s for bad requests.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagReranker } from '../src/api/FlagReranker.js';
import { runRerank } from '../src/cli/rerank.js';
import { rerankRoutes } from '../src/server/routes/rerank.js';
import { writeXlmrFixture } from './support/xlmrFixture.js';
import { referenceRerankScore } from './support/xlmrReference.js';
import type { XlmrWeights } from './support/synthetic/xlmr.js';

const QUERY = 'what is a panda?';
const DOCUMENTS = [
  'hi',
  'The giant panda is a bear species endemic to China.',
  'Paris est la capitale de la France.',
  '熊猫是中国特有的熊科动物。',
  'Pandas is a Python library for data analysis.',
];

let path: string;
let weights: XlmrWeights;
let reranker: FlagReranker;
let app: FastifyInstance;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

beforeAll(async () => {
  ({ path, weights } = await writeXlmrFixture('xlmr-cli-server.gguf'));
  reranker = await FlagReranker.load(path, { threads: 2 });
  app = Fastify();
  await app.register(rerankRoutes, { reranker, modelName: 'tiny-xlmr' });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
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

  it('400 for a bad request', async () => {
    for (const payload of [{ documents: ['a'] }, { query: 'q' }, { query: 'q', documents: 'a' }, { query: 'q', documents: ['a'], top_n: 0 }, { query: 'q', documents: [{ nope: 1 }] }]) {
      const res = await app.inject({ method: 'POST', url: '/v1/rerank', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
  });
});
