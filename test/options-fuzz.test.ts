/**
 * Engine options are a way in for a crash too: llama.cpp asserts (aborting the process) on shapes
 * it does not expect, as mean pooling did with a batchTokens that was not a multiple of
 * maxSequences. Random combinations of every engine option, each loaded and run in a child process
 * on texts of many lengths: every one gives finite vectors for every text or a typed error, and no
 * child dies by a signal.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fixturePath, repoRoot } from './support/fixtures.js';
import { Rng } from './support/synthetic/random.js';

const run = promisify(execFile);
const CASES = 36;

const pick = <T>(rng: Rng, values: readonly T[]): T => values[rng.int(values.length)];

function randomCase(rng: Rng) {
  const options: Record<string, unknown> = {
    batchTokens: pick(rng, [1, 2, 7, 8, 31, 33, 63, 64, 65, 100, 255, 257, 300, 511, 1000]),
    maxSequences: pick(rng, [1, 2, 3, 7, 8, 100, 255, 256]),
    parallelDecodes: pick(rng, [1, 2]),
    threads: pick(rng, [1, 2]),
    poolingMethod: pick(rng, ['cls', 'mean']),
    batchInvariant: pick(rng, [false, true]),
    batchSize: pick(rng, [1, 3, 256]),
  };
  const flash = pick(rng, [undefined, true, false]);
  if (flash !== undefined) options.flashAttention = flash;
  const texts = Array.from({ length: 1 + Math.floor(rng.uniform() * 12) }, (_, i) => `text ${i} ${'word '.repeat(Math.floor(rng.uniform() ** 3 * 600))}`);
  return { model: pick(rng, ['tiny-bert-f32.gguf', 'tiny-bert-q8_0.gguf'] as const), options, texts };
}

describe('engine options fuzz (child processes)', { timeout: 600_000 }, () => {
  it(`${CASES} random option sets: vectors or a typed error, never a dead process`, async () => {
    const rng = new Rng(20261205);
    const cases = Array.from({ length: CASES }, () => randomCase(rng));
    const outcomes: string[] = [];
    for (let i = 0; i < cases.length; i += 2) {
      await Promise.all(
        cases.slice(i, i + 2).map(async (c) => {
          const label = `${c.model} ${JSON.stringify(c.options)} (${c.texts.length} texts)`;
          try {
            const { stdout } = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/optionsFuzzChild.ts'), fixturePath(c.model), JSON.stringify(c.options), JSON.stringify(c.texts)], { cwd: repoRoot, timeout: 120_000 });
            const result = JSON.parse(stdout.trim().split('\n').pop()!);
            if (result.code) {
              expect(result.code, label).not.toMatch(/^untyped/);
              outcomes.push(result.code);
            } else {
              expect(result, label).toEqual({ count: c.texts.length, finite: true });
              outcomes.push('ok');
            }
          } catch (error) {
            const { signal, code, stderr } = error as { signal?: string; code?: number; stderr?: string };
            throw new Error(`${label}: child died (signal ${signal}, exit ${code}): ${String(stderr).trim().split('\n').slice(-3).join(' | ')}`);
          }
        }),
      );
    }
    console.log(`options fuzz outcomes: ${JSON.stringify(Object.fromEntries([...new Set(outcomes)].map((o) => [o, outcomes.filter((x) => x === o).length])))}`);
    expect(outcomes.filter((o) => o === 'ok').length).toBeGreaterThan(CASES / 2);
  });
});
