import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { FlagModel } from '../src/api/FlagModel.js';
import { BgeGgufError } from '../src/errors.js';
import { readGguf } from '../src/gguf/reader.js';
import { assertContextFits, estimateContextMemory } from '../src/runtime/memoryEstimate.js';
import { fixturePath, repoRoot } from './support/fixtures.js';

const run = promisify(execFile);
const MINILM = join(repoRoot, 'models', 'all-minilm-l6-v2-q8_0.gguf');

describe('batchTokens is bounded by a memory estimate made before allocating', () => {
  it('the estimate matches the compute buffer llama.cpp itself reports (MiniLM, 8192 tokens)', async () => {
    const { stderr } = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/computeBufferChild.ts'), MINILM, '8192'], {
      cwd: repoRoot,
      env: { ...process.env, BGE_GGUF_LOG: 'info' },
      timeout: 120_000,
      maxBuffer: 64 << 20,
    });
    const reported = [...stderr.matchAll(/CPU compute buffer size =\s*([\d.]+) MiB/g)].map((m) => Number(m[1]) * 2 ** 20);
    expect(reported.length).toBeGreaterThan(0);
    const estimate = estimateContextMemory(await readGguf(MINILM), 8192).totalBytes;
    expect(estimate / Math.max(...reported)).toBeGreaterThan(0.9);
    expect(estimate / Math.max(...reported)).toBeLessThan(1.15);
  });

  it('65536 tokens on MiniLM is estimated at ~8.9 GB (what llama.cpp reserves), and refused where memory is smaller', async () => {
    const gguf = await readGguf(MINILM);
    const gib = estimateContextMemory(gguf, 65536).totalBytes / 2 ** 30;
    expect(gib).toBeGreaterThan(8.3);
    expect(gib).toBeLessThan(9.5);
    expect(() => assertContextFits(gguf, 65536, 64e9)).not.toThrow();
    const error = (() => {
      try {
        assertContextFits(gguf, 65536, 8e9);
      } catch (e) {
        return e as BgeGgufError;
      }
    })();
    expect(error).toBeInstanceOf(BgeGgufError);
    expect(error?.code).toBe('OUT_OF_MEMORY');
    expect(error?.message).toMatch(/batchTokens 65536 needs at least 9\.\d GB .* use a smaller batchTokens \(at most ~\d+/);
  });

  it('batchTokens 2^20 is a typed OUT_OF_MEMORY at load, not a failure at the first encode', async () => {
    const error = await FlagModel.load(fixturePath('tiny-bert-f32.gguf'), { batchTokens: 2 ** 20 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BgeGgufError);
    expect((error as BgeGgufError).code).toBe('OUT_OF_MEMORY');
  });
});
