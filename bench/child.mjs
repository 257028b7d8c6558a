// Runs one contender in its own process so its peak RSS is its own.
// Protocol: the parent writes a job JSON file and passes its path; the worker prints one line
// `BENCH_RESULT <json>` on stdout. Helpers for both sides live here.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const MARK = 'BENCH_RESULT ';

/** Runs a command to completion, collecting its output; killed after timeoutMs. */
export function runProcess(cmd, args, { cwd, env = process.env, timeoutMs = 30 * 60_000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: cwd ?? undefined, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => { clearTimeout(timer); resolvePromise({ code, signal, stdout, stderr }); });
  });
}

export async function runWorker(script, jobPath, { timeoutMs = 30 * 60_000, env = process.env } = {}) {
  const { code, signal, stdout, stderr } = await runProcess(process.execPath, [script, jobPath], { env, timeoutMs });
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  if (code === 0 && line) return JSON.parse(line.slice(MARK.length));
  const lines = (stderr || stdout).trim().split('\n');
  const message = lines.find((l) => /^\w*Error\b.*:/.test(l.trim()));  // the thrown error's own line, before its stack
  throw new Error(`${script} failed (code ${code}${signal ? `, ${signal}` : ''})${message ? `: ${message.trim()}` : ''}:\n${lines.slice(-15).join('\n')}`);
}

export function readJob() {
  const path = process.argv[2];
  if (!path) throw new Error('usage: node <worker>.mjs <job.json>');
  return JSON.parse(readFileSync(path, 'utf8'));
}

export function report(result) {
  const maxRssMiB = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
  process.stdout.write(`${MARK}${JSON.stringify({ ...result, maxRssMiB })}\n`);
}

export async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

/** First few vectors as plain arrays, for the cross-contender sanity check. */
export function sample(vectors, n = 3) {
  return vectors.slice(0, n).map((v) => Array.from(v));
}

/**
 * Steady-state single-call latencies (ms) of fn over texts: an untimed round of the first 24 comes
 * first, for every contender alike (bge-gguf's thread tuner times one thread against all of them on
 * the first few decodes of each size; other runtimes warm caches and allocators).
 */
export async function latencies(texts, fn) {
  for (const text of texts.slice(0, 24)) await fn(text);
  const ms = [];
  for (const text of texts) ms.push((await timed(() => fn(text))).ms);
  return ms;
}
