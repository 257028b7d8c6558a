/**
 * llama.cpp sizes a context's output buffer for logits (n_vocab floats per output token) even for
 * embedding models, and zero-fills it: a 512-token decode of a model with XLM-R's 250k vocabulary
 * would write 512 MB, an 8k-token bge-m3 decode 8 GB. native/outputBuffer.cpp gives that buffer
 * untouched zero pages instead. Measured as peak RSS in a child process (Linux /proc).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './support/fixtures.js';
import { writeXlmrFixture } from './support/xlmrFixture.js';

describe('output buffer of a large-vocabulary encoder', { timeout: 120_000 }, () => {
  let model = '';
  beforeAll(async () => {
    ({ path: model } = await writeXlmrFixture('output-buffer-xlmr.gguf'));
  });

  it('a 512-token decode costs far less than 512 tokens × 250k vocabulary floats', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/outputBufferChild.ts'), model, '512'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    const { before, after, finite } = JSON.parse(out.trim().split('\n').pop()!);
    expect(finite).toBe(true);
    const logitsMiB = (512 * 250002 * 4) / 2 ** 20; // what a zero-filled logits buffer would add
    expect(after - before).toBeLessThan(logitsMiB / 10);
  });
});
