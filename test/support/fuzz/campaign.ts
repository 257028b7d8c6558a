/**
 * Runs a fuzz campaign: cases split into batches, each batch in its own child process (runner.ts),
 * `parallel` children at a time. A child that dies by a signal names its killer (the case it had
 * started and not finished); the rest of its batch is run again in a fresh child.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../fixtures.js';
import { ensureFuzzBases, type FuzzBase } from './bases.js';

export interface CaseResult {
  base: FuzzBase;
  index: number;
  label: string;
  ok?: boolean;
  code?: string;
  message?: string;
  /** An exception that is not a BgeGgufError (its stack). */
  untyped?: string;
  /** The process died by this signal (or 'timeout') while running the case. */
  death?: string;
}

export interface CampaignOptions {
  seed: number;
  /** Cases per base model. */
  cases: Record<FuzzBase, number>;
  batchSize?: number;
  parallel?: number;
  /** Per case, on top of a child's start-up allowance. */
  caseTimeoutMs?: number;
  onBatch?: (done: number, total: number) => void;
}

interface Batch {
  base: FuzzBase;
  indices: number[];
}

function runBatch(batch: Batch, seed: number, caseTimeoutMs: number): Promise<{ results: CaseResult[]; rest: number[] }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/fuzz/runner.ts'), batch.base, String(seed), batch.indices.join(',')], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const results: CaseResult[] = [];
    let current: CaseResult | null = null;
    let buffered = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, 15_000 + caseTimeoutMs * batch.indices.length);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const event = JSON.parse(line);
        if ('start' in event) current = { base: batch.base, index: event.start, label: event.label };
        else if ('done' in event && current) {
          const { done: _, ...outcome } = event;
          results.push({ ...current, ...outcome });
          current = null;
        }
      }
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const finished = new Set(results.map((r) => r.index));
      if (current) {
        results.push({ ...current, death: timedOut ? 'timeout' : (signal ?? `exit ${code}`) });
        finished.add(current.index);
      } else if (signal || code !== 0) {
        // died outside a case (start-up): nothing to blame, the batch is run again
      }
      const rest = current || (!signal && code === 0) ? batch.indices.filter((i) => !finished.has(i)) : [];
      resolve({ results, rest: signal || code !== 0 ? rest : [] });
    });
  });
}

export async function runCampaign(options: CampaignOptions): Promise<CaseResult[]> {
  await ensureFuzzBases();
  const batchSize = options.batchSize ?? 40;
  const queue: Batch[] = [];
  for (const [base, count] of Object.entries(options.cases) as Array<[FuzzBase, number]>) {
    for (let start = 0; start < count; start += batchSize) {
      queue.push({ base, indices: Array.from({ length: Math.min(batchSize, count - start) }, (_, k) => start + k) });
    }
  }
  const total = Object.values(options.cases).reduce((a, b) => a + b, 0);
  const all: CaseResult[] = [];
  const worker = async () => {
    for (let batch = queue.shift(); batch; batch = queue.shift()) {
      const { results, rest } = await runBatch(batch, options.seed, options.caseTimeoutMs ?? 5_000);
      all.push(...results);
      if (rest.length) queue.unshift({ base: batch.base, indices: rest });
      options.onBatch?.(all.length, total);
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 2 }, worker));
  return all.sort((a, b) => a.base.localeCompare(b.base) || a.index - b.index);
}

/** The failures a campaign must not have: deaths, hangs and untyped exceptions. */
export function badOutcomes(results: CaseResult[], knownCodes: readonly string[]): CaseResult[] {
  return results.filter((r) => r.death || r.untyped || (r.ok === false && !knownCodes.includes(r.code ?? '')));
}
