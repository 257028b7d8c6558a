/**
 * Runs a fuzz campaign: cases split into batches, each batch in its own child process (runner.ts),
 * `parallel` children at a time. A child that dies by a signal names its killer (the case it had
 * started and not finished); the rest of its batch is run again in a fresh child.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
  /** The fuzzer could not build the case (a bug in test/support/fuzz, not in the library). */
  generatorError?: string;
  /** The process died by this signal (or 'timeout') while running the case. */
  death?: string;
}

export interface CampaignOptions {
  seed: number;
  /** Cases per base model. */
  cases: Partial<Record<FuzzBase, number>>;
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

/** One child over `batch`; results in the child's own case numbering (positions in `files` in files mode). */
function runBatch(batch: Batch, seed: number, caseTimeoutMs: number, files?: string[]): Promise<CaseResult[]> {
  const args = files ? ['--files', batch.base, ...files] : [batch.base, String(seed), batch.indices.join(',')];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/fuzz/runner.ts'), ...args], {
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
      if (current) results.push({ ...current, death: timedOut ? 'timeout' : (signal ?? `exit ${code}`) });
      else if (code !== 0 && results.length === 0) {
        // died before its first case: blame the batch's first case so the campaign moves on
        results.push({ base: batch.base, index: files ? 0 : batch.indices[0], label: 'child start-up', death: signal ?? `exit ${code}` });
      }
      resolve(results);
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
  const total = Object.values(options.cases).reduce((a, b) => a + (b ?? 0), 0);
  const all: CaseResult[] = [];
  const worker = async () => {
    for (let batch = queue.shift(); batch; batch = queue.shift()) {
      const results = await runBatch(batch, options.seed, options.caseTimeoutMs ?? 5_000);
      all.push(...results);
      const finished = new Set(results.map((r) => r.index));
      const rest = batch.indices.filter((i) => !finished.has(i));
      if (rest.length) queue.unshift({ base: batch.base, indices: rest }); // after a death: the cases it did not reach
      options.onBatch?.(all.length, total);
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 2 }, worker));
  return all.sort((a, b) => a.base.localeCompare(b.base) || a.index - b.index);
}

/**
 * Loads and runs each file in a child process (a fresh child after a death, so every file is
 * tried) with the public API of `base` (a reranker's computeScore for 'xlmr', encode otherwise).
 */
export async function loadFilesInChild(files: string[], base: FuzzBase = 'bert'): Promise<CaseResult[]> {
  const all: CaseResult[] = [];
  let remaining = files.map((_, i) => i);
  while (remaining.length) {
    const positions = remaining;
    const results = await runBatch({ base, indices: positions }, 0, 10_000, positions.map((i) => files[i]));
    all.push(...results.map((r) => ({ ...r, index: positions[r.index] })));
    const finished = new Set(results.map((r) => positions[r.index]));
    remaining = positions.filter((i) => !finished.has(i));
  }
  return all.sort((a, b) => a.index - b.index);
}

/** The failures a campaign must not have: deaths, hangs, untyped exceptions (and fuzzer bugs). */
export function badOutcomes(results: CaseResult[], knownCodes: readonly string[]): CaseResult[] {
  return results.filter((r) => r.death || r.untyped || r.generatorError || (r.ok === false && !knownCodes.includes(r.code ?? '')));
}

/** Every code of BgeGgufErrorCode, read from src/errors.ts (codes other issues append count too). */
export function knownErrorCodes(): string[] {
  const source = readFileSync(join(repoRoot, 'src', 'errors.ts'), 'utf8');
  const union = /export type BgeGgufErrorCode =([\s\S]*?);/.exec(source)![1];
  return [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]);
}
