// Runs one contender in its own process so its peak RSS is its own.
// Protocol: the parent writes a job JSON file and passes its path; the worker prints one line
// `BENCH_RESULT <json>` on stdout. Helpers for both sides live here.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const MARK = 'BENCH_RESULT ';

export function runWorker(script, jobPath, { timeoutMs = 30 * 60_000, env = process.env } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, jobPath], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(MARK));
      if (code === 0 && line) return resolvePromise(JSON.parse(line.slice(MARK.length)));
      const tail = (stderr || stdout).trim().split('\n').slice(-15).join('\n');
      reject(new Error(`${script} failed (code ${code}${signal ? `, ${signal}` : ''}):\n${tail}`));
    });
  });
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
