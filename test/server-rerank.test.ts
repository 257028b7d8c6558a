/**
 * `bge-gguf serve` and `bge-gguf rerank` as real processes on the synthetic XLM-R reranker: the server
 * sees a reranker GGUF and answers POST /v1/rerank (scores equal FlagReranker.computeScore in this
 * process, sigmoid by default), an embedder's server refuses /v1/rerank with a 404 naming what it is,
 * and the CLI prints the documents sorted by score.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagReranker } from '../src/api/FlagReranker.js';
import { runCli, startServer, waitBusy, waitIdle, type ServerProcess } from './support/serverProcess.js';
import { DOCUMENTS, QUERY, writeXlmrFixture } from './support/xlmrFixture.js';

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

let path: string;
let reranker: FlagReranker;
let rerankServer: ServerProcess;
let embedServer: ServerProcess;
/** FlagReranker.computeScore in this process: raw logits for DOCUMENTS. */
let logits: number[];

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const bestFirst = (scores: number[]) => [...scores.keys()].sort((a, b) => scores[b] - scores[a] || a - b);

beforeAll(async () => {
  ({ path } = await writeXlmrFixture('xlmr-server-rerank.gguf'));
  [rerankServer, embedServer, reranker] = await Promise.all([
    // batches of 8 pairs: a cancelled request stops within one short batch
    startServer(['--model', path, '--model-name', 'tiny-xlmr', '--threads', '2', '--batch-size', '8', '--max-texts', '300', '--concurrency', '1', '--max-queue', '0']),
    startServer(['--threads', '1']),
    FlagReranker.load(path, { threads: 2 }),
  ]);
  logits = await reranker.computeScore(DOCUMENTS.map((d): [string, string] => [QUERY, d]));
});

afterAll(async () => {
  await Promise.all([rerankServer?.stop(), embedServer?.stop(), reranker?.dispose()]);
});

describe('bge-gguf serve with a reranker GGUF', () => {
  it('POST /v1/rerank: sigmoid scores equal to FlagReranker.computeScore, best first, usage', async () => {
    const res = await fetch(`${rerankServer.base}/v1/rerank`, json({ query: QUERY, documents: DOCUMENTS }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model: string; object: string; results: Array<{ index: number; relevance_score: number; document?: unknown }>; usage: { total_tokens: number } };
    expect(body.model).toBe('tiny-xlmr');
    expect(body.object).toBe('list');
    const want = logits.map(sigmoid);
    expect(body.results.map((r) => r.index)).toEqual(bestFirst(want));
    for (const r of body.results) {
      expect(r.relevance_score).toBeCloseTo(want[r.index], 6);
      expect(r.document).toBeUndefined();
    }
    const tokens = (await reranker.pairIds(DOCUMENTS.map((d): [string, string] => [QUERY, d]))).reduce((sum, ids) => sum + ids.length, 0);
    expect(body.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
  });

  it('top_n, return_documents ({text} documents too), raw_scores, the /rerank alias', async () => {
    const documents = [DOCUMENTS[0], { text: DOCUMENTS[1] }, ...DOCUMENTS.slice(2)];
    const res = await fetch(`${rerankServer.base}/rerank`, json({ model: 'bge-reranker-v2-m3', query: QUERY, documents, top_n: 2, return_documents: true, raw_scores: true }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { model: string; results: Array<{ index: number; relevance_score: number; document: { text: string } }> };
    expect(body.model).toBe('bge-reranker-v2-m3');
    expect(body.results.map((r) => r.index)).toEqual(bestFirst(logits).slice(0, 2));
    for (const r of body.results) {
      expect(r.relevance_score).toBeCloseTo(logits[r.index], 5);
      expect(r.document).toEqual({ text: DOCUMENTS[r.index] });
    }
  });

  it('limits and bad requests are OpenAI-shaped 400s; embeddings routes are 404s naming the reranker', async () => {
    const error = async (res: Response) => ({ status: res.status, error: ((await res.json()) as { error: Record<string, unknown> }).error });
    const tooMany = await error(await fetch(`${rerankServer.base}/v1/rerank`, json({ query: QUERY, documents: Array(301).fill('x') })));
    expect(tooMany).toMatchObject({ status: 400, error: { type: 'invalid_request_error', param: 'documents' } });
    const bad = await error(await fetch(`${rerankServer.base}/v1/rerank`, json({ query: QUERY, documents: 'a' })));
    expect(bad).toMatchObject({ status: 400, error: { param: 'documents' } });
    for (const url of ['/v1/embeddings', '/embed']) {
      const wrong = await error(await fetch(`${rerankServer.base}${url}`, json({ input: 'x', texts: ['x'] })));
      expect(wrong.status).toBe(404);
      expect(wrong.error.message).toMatch(/reranker/);
    }
  });

  it('stops the work of a client that hangs up, and answers 429 + Retry-After when the queue is full', async () => {
    // 300 pairs of ~400 tokens: tens of seconds of scoring on a CPU when not cancelled
    const big = json({ query: QUERY, documents: Array.from({ length: 300 }, (_, i) => `passage ${i} ${'lorem ipsum dolor sit amet '.repeat(80)}`) });
    const abandoned = new AbortController();
    const first = fetch(`${rerankServer.base}/v1/rerank`, { ...big, signal: abandoned.signal }).catch(() => null);
    await waitBusy(rerankServer.base);
    const refused = await fetch(`${rerankServer.base}/v1/rerank`, json({ query: QUERY, documents: DOCUMENTS }));
    expect(refused.status).toBe(429); // --concurrency 1 --max-queue 0
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    abandoned.abort();
    await first;
    await waitIdle(rerankServer.base, 10_000);
    expect((await fetch(`${rerankServer.base}/v1/rerank`, json({ query: QUERY, documents: DOCUMENTS }))).status).toBe(200);
  });

  it('/v1/models lists the reranker, /health says its task, /metrics counts rerank requests', async () => {
    const models = (await (await fetch(`${rerankServer.base}/v1/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toEqual(['tiny-xlmr']);
    expect(await (await fetch(`${rerankServer.base}/health`)).json()).toMatchObject({ status: 'ok', model: 'tiny-xlmr', task: 'rerank' });
    const metrics = await (await fetch(`${rerankServer.base}/metrics`)).text();
    expect(metrics).toMatch(/bge_gguf_http_requests_total\{route="\/v1\/rerank",method="POST",status="200"\} [1-9]/);
  });
});

describe("an embedder's server", () => {
  it('answers POST /v1/rerank with a 404 and an OpenAI-style error saying the model is an embedder', async () => {
    const res = await fetch(`${embedServer.base}/v1/rerank`, json({ query: QUERY, documents: DOCUMENTS }));
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'not_found' });
    expect(body.error.message).toMatch(/embedder/);
    expect((await fetch(`${embedServer.base}/v1/embeddings`, json({ input: 'still embeds' }))).status).toBe(200);
  });
});

describe('bge-gguf rerank (CLI process)', () => {
  it('prints every document with its score, best first', async () => {
    const { code, stdout, stderr } = await runCli(['rerank', '--model', path, '--query', QUERY, '--threads', '2', ...DOCUMENTS]);
    expect(code, stderr).toBe(0);
    const rows = stdout.trim().split('\n').map((line) => /^\s*(-?\d+\.\d{6})\s+\[(\d+)\] (.*)$/.exec(line));
    expect(rows.every((m) => m !== null), stdout).toBe(true);
    expect(rows.map((m) => Number(m![2]))).toEqual(bestFirst(logits));
    for (const m of rows) {
      expect(Number(m![1])).toBeCloseTo(logits[Number(m![2])], 5);
      expect(m![3]).toBe(DOCUMENTS[Number(m![2])]);
    }
  });

  it('reads documents from stdin, one per line: --json, --top-n, --normalize', async () => {
    const { code, stdout, stderr } = await runCli(['rerank', '-m', path, '-q', QUERY, '--json', '--top-n', '3', '--normalize', '--threads', '2'], `${DOCUMENTS.join('\n')}\n`);
    expect(code, stderr).toBe(0);
    const rows = stdout.trim().split('\n').map((l) => JSON.parse(l) as { index: number; score: number; document: string });
    expect(rows.map((r) => r.index)).toEqual(bestFirst(logits).slice(0, 3));
    for (const r of rows) {
      expect(r.score).toBeCloseTo(sigmoid(logits[r.index]), 6);
      expect(r.document).toBe(DOCUMENTS[r.index]);
    }
  });

  it('has --help; needs --query, and documents', async () => {
    const help = await runCli(['rerank', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: bge-gguf rerank');
    expect(help.stdout).toMatch(/--top-n[\s\S]*--json/);
    const noQuery = await runCli(['rerank', '-m', path, 'doc']);
    expect(noQuery.code).not.toBe(0);
    expect(noQuery.stderr).toMatch(/--query/);
    const noDocs = await runCli(['rerank', '-m', path, '-q', QUERY]);
    expect(noDocs.code).toBe(1);
    expect(noDocs.stderr).toMatch(/documents/);
  });
});
