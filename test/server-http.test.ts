import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServer, waitBusy, waitIdle, type ServerProcess } from './support/serverProcess.js';

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const longTexts = (count: number, words = 400) => Array.from({ length: count }, (_, i) => `passage ${i} ${'lorem ipsum dolor sit amet '.repeat(words / 5)}`);

describe('bge-gguf serve: production HTTP behaviour', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServer(['--concurrency', '1', '--max-queue', '1', '--max-texts', '4096', '--max-body-bytes', '20000000', '--max-tokens-per-request', '4000000']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers /health, /ready, /embed and /metrics', async () => {
    expect(await (await fetch(`${server.base}/health`)).json()).toMatchObject({ status: 'ok', dimension: 384 });
    expect((await fetch(`${server.base}/ready`)).status).toBe(200);
    const embed = await fetch(`${server.base}/embed`, json({ texts: ['hello', 'world'], type: 'query' }));
    const body = (await embed.json()) as { embeddings: number[][]; usage: { tokens: number } };
    expect(body.embeddings).toHaveLength(2);
    expect(body.usage.tokens).toBeGreaterThan(0);
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    for (const name of ['bge_gguf_http_requests_total', 'bge_gguf_http_request_duration_seconds_bucket', 'bge_gguf_texts_total', 'bge_gguf_tokens_total', 'bge_gguf_queue_depth']) {
      expect(metrics).toContain(name);
    }
    // bodies from 256 KiB on are parsed in a worker thread: same answers
    for (const size of [100, 400_000]) {
      const bad = await fetch(`${server.base}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"input": "${'x'.repeat(size)}` });
      expect(bad.status, `${size}`).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    }
    const large = await fetch(`${server.base}/v1/embeddings`, json({ input: ['word '.repeat(80_000), 'short'], encoding_format: 'float' }));
    expect(large.status).toBe(200);
    expect(((await large.json()) as { data: unknown[] }).data).toHaveLength(2);
    const notFound = await fetch(`${server.base}/nope`);
    expect(notFound.status).toBe(404);
    expect(((await notFound.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });

  it('stops the work of a client that hangs up, and answers 429 + Retry-After when the queue is full', async () => {
    const big = json({ input: longTexts(2000) }); // 2000 x 512 tokens
    const abandoned = new AbortController();
    const first = fetch(`${server.base}/v1/embeddings`, { ...big, signal: abandoned.signal }).catch(() => null);
    await waitBusy(server.base);
    // one running + one waiting fill --concurrency 1 --max-queue 1
    const waiting = new AbortController();
    const second = fetch(`${server.base}/v1/embeddings`, { ...big, signal: waiting.signal }).catch(() => null);
    await new Promise((r) => setTimeout(r, 300));
    const third = await fetch(`${server.base}/v1/embeddings`, big);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    abandoned.abort();
    waiting.abort();
    await Promise.all([first, second]);
    // 2000 long passages take minutes on a CPU; cancelled, the server is idle again at once
    await waitIdle(server.base, 10_000);
    expect((await fetch(`${server.base}/v1/embeddings`, json({ input: 'x' }))).status).toBe(200);
  });

  it('finishes in-flight requests on SIGTERM, then exits 0', async () => {
    const own = await startServer();
    const pending = fetch(`${own.base}/v1/embeddings`, json({ input: longTexts(12, 40) }));
    await waitBusy(own.base);
    const code = own.stop();
    const response = await pending;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: unknown[] }).data).toHaveLength(12);
    expect(await code).toBe(0);
  });
});

describe('bge-gguf serve: options', () => {
  it('requires the API key when given (env or flag), except on /health', async () => {
    const server = await startServer([], { BGE_GGUF_API_KEY: 'sekret' });
    try {
      expect((await fetch(`${server.base}/health`)).status).toBe(200);
      const denied = await fetch(`${server.base}/v1/embeddings`, json({ input: 'x' }));
      expect(denied.status).toBe(401);
      expect(((await denied.json()) as { error: { type: string } }).error.type).toBe('authentication_error');
      const wrong = await fetch(`${server.base}/v1/models`, { headers: { authorization: 'Bearer nope' } });
      expect(wrong.status).toBe(401);
      const ok = await fetch(`${server.base}/v1/models`, { headers: { authorization: 'Bearer sekret' } });
      expect(ok.status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('enforces --cors, body, text, token and time limits', async () => {
    const server = await startServer(['--cors', 'https://app.example', '--max-body-bytes', '20000', '--max-texts', '3', '--max-tokens-per-request', '40']);
    try {
      const preflight = await fetch(`${server.base}/v1/embeddings`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
      const expectError = async (body: unknown, status: number, code: string) => {
        const res = await fetch(`${server.base}/v1/embeddings`, json(body));
        expect(res.status).toBe(status);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
      };
      await expectError({ input: 'x'.repeat(30_000) }, 413, 'body_too_large');
      await expectError({ input: ['a', 'b', 'c', 'd'] }, 400, 'invalid_input');
      await expectError({ input: ['word '.repeat(100)] }, 400, 'too_many_tokens');
      await expectError({ input: 'x', encoding_format: 'hex' }, 400, 'invalid_value');
    } finally {
      await server.stop();
    }
    const slow = await startServer(['--timeout-ms', '100', '--max-texts', '4096', '--max-body-bytes', '20000000']);
    try {
      const res = await fetch(`${slow.base}/v1/embeddings`, json({ input: longTexts(2000) }));
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('timeout');
      await waitIdle(slow.base, 10_000);
    } finally {
      await slow.stop();
    }
  });

  it('says clearly when the port is taken or the host is wrong, with no stack trace; warns on a public host without a key', async () => {
    const server = await startServer();
    try {
      const port = new URL(server.base).port;
      const busy = await runCli(['serve', '--port', port]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/port \d+ on 127\.0\.0\.1 is already in use/);
      expect(busy.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await server.stop();
    }
    const badHost = await runCli(['serve', '--port', '0', '--host', '203.0.113.7']);
    expect(badHost.code).toBe(1);
    expect(badHost.stderr).toMatch(/cannot bind 203\.0\.113\.7/);
    expect(badHost.stderr).toMatch(/without --api-key/);
    expect(badHost.stderr).not.toMatch(/\n\s+at /);
  });
});
