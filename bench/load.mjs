/**
 * Loopback load test of `bge-gguf serve` (run: node --import tsx bench/load.mjs [--requests 5000] [--concurrency 200]).
 *  1. many small /v1/embeddings requests at fixed concurrency: error rate, latency p50/p99, /health p99 meanwhile
 *  2. the largest allowed request on the embedded model: /health p99 while it runs; then the client hangs up:
 *     how long until the server's CPU is idle
 *  3. a 7 MB text on an ICL model (synthetic Mistral fixture): /health p99 and the worst event-loop stall
 * Bounded: every phase has a fixed amount of work or a time limit. Prints one JSON report.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GgmlType } from '../src/gguf/types.ts';
import { writeMistralFixture } from '../test/support/mistralFixture.ts';

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '200' },
    'large-seconds': { type: 'string', default: '5' },
    skip: { type: 'string', default: '' },
    // e.g. --server-args="--threads 1": on an oversubscribed machine llama.cpp's thread barriers cost more than they gain
    'server-args': { type: 'string', default: '' },
  },
});
const root = join(import.meta.dirname, '..');
const skip = new Set(args.skip.split(',').filter(Boolean));

function startServer(extra = []) {
  const serverArgs = args['server-args'].split(' ').filter(Boolean);
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', '--port', '0', ...serverArgs, ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ base: m[1], child, stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) });
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
}

const post = (base, body, signal) =>
  fetch(`${base}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))].toFixed(1)) : null;
}

/** Probes /health every `every` ms until stopped; returns the latencies. */
function healthProbe(base, every = 20) {
  const latencies = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await fetch(`${base}/health`).then((r) => r.text());
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, every));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return { samples: latencies.length, p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99), max_ms: percentile(latencies, 100) };
  };
}

/** The server's own view of its HTTP thread: event-loop delay p99 and max over its life (prom-client's monitorEventLoopDelay). */
async function eventLoop(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const read = (name) => Number(new RegExp(`^bge_gguf_nodejs_eventloop_lag_${name}_seconds (\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99_ms: Number(read('p99').toFixed(1)), max_ms: Number(read('max').toFixed(1)) };
}

/** CPU seconds the process has used (Linux /proc). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function idleAfter(pid, limitMs = 30_000) {
  const start = performance.now();
  let last = cpuSeconds(pid);
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const now = cpuSeconds(pid);
    const busy = (now - last) / 0.1; // cores in use over the last 100 ms
    last = now;
    if (busy < 0.1) return Number((performance.now() - start).toFixed(0));
    if (performance.now() - start > limitMs) return null;
  }
}

const report = { cpu: cpus()[0]?.model, cores: cpus().length, server_args: args['server-args'] };

if (!skip.has('load')) {
  const server = await startServer(['--max-queue', '1000']);
  const total = Number(args.requests);
  const latencies = [];
  const statuses = {};
  let next = 0;
  const stopProbe = healthProbe(server.base);
  const t0 = performance.now();
  const texts = ['how do I reset my password', 'shipping to Canada takes 5 days', 'the cat sat on the mat', 'quarterly revenue grew 12%'];
  await Promise.all(
    Array.from({ length: Number(args.concurrency) }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        const res = await post(server.base, { input: texts.slice(0, 1 + (i % 4)), model: 'bench' }).catch(() => null);
        statuses[res?.status ?? 'network'] = (statuses[res?.status ?? 'network'] ?? 0) + 1;
        await res?.arrayBuffer();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  report.load = {
    requests: total,
    concurrency: Number(args.concurrency),
    seconds: Number(seconds.toFixed(1)),
    requests_per_second: Number((total / seconds).toFixed(0)),
    statuses,
    error_rate: Number((1 - (statuses[200] ?? 0) / total).toFixed(4)),
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    health_under_load: await stopProbe(),
    server_event_loop_delay: await eventLoop(server.base),
  };
  await server.stop();
}

if (!skip.has('large')) {
  const server = await startServer();
  // the largest request the defaults allow: 2048 texts, just under the 8 MiB body limit
  const input = Array.from({ length: 2048 }, (_, i) => `${i} ${'a fairly long sentence about many things '.repeat(95)}`.slice(0, 3900));
  const controller = new AbortController();
  const stopProbe = healthProbe(server.base, 10);
  const request = post(server.base, { input }, controller.signal).catch(() => 'aborted');
  await new Promise((r) => setTimeout(r, Number(args['large-seconds']) * 1000));
  const health = await stopProbe();
  const cpuBefore = cpuSeconds(server.child.pid);
  controller.abort();
  await request;
  const idleMs = await idleAfter(server.child.pid);
  report.largest_request = {
    body_mb: Number((JSON.stringify({ input }).length / 1e6).toFixed(2)),
    health_while_encoding: health,
    client_abandons: { server_cpu_seconds_before: cpuBefore, idle_after_ms: idleMs },
    server_event_loop_delay: await eventLoop(server.base),
  };
  await server.stop();
}

if (!skip.has('icl')) {
  const { path } = await writeMistralFixture('bench-icl-mistral.gguf', { type: GgmlType.F32 });
  const server = await startServer(['--model', path, '--max-body-bytes', String(16 * 1024 * 1024)]);
  const text = 'The quick brown fox jumps over the lazy dog. '.repeat(Math.ceil(7e6 / 45)).slice(0, 7e6);
  const stopProbe = healthProbe(server.base, 10);
  const t = performance.now();
  const res = await post(server.base, { input: text });
  const body = await res.json();
  const ms = performance.now() - t;
  report.icl_7mb_text = { status: res.status, request_ms: Number(ms.toFixed(0)), prompt_tokens: body.usage?.prompt_tokens, health_meanwhile: await stopProbe(), server_event_loop_delay: await eventLoop(server.base) };
  await server.stop();
}

console.log(JSON.stringify(report, null, 2));
process.exit(0);
