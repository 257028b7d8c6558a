/**
 * CPU flash attention runs on bge-gguf's own kernel (native/attention) where the CPU has one.
 * Checked by behaviour: the kernel is the one this CPU's instruction set allows, long decodes go
 * through it (short ones keep plain attention), and its vectors are as close to the float64
 * references as those of llama.cpp's own kernel, which a child process with
 * BGE_GGUF_ATTENTION=ggml runs on the same packed batches (several sequences per decode, so every
 * mask shape occurs: rows of other sequences, causal rows, grouped K/V heads in the decoder).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GgmlType } from '../src/gguf/types.js';
import { createNativeEngine } from '../src/runtime/native.js';
import { loadAddon } from '../src/runtime/nativeBinding.js';
import type { Pooling } from '../src/runtime/types.js';
import { referenceEmbeddings } from './support/bertReference.js';
import { fixturePath, fixtureWeights, repoRoot } from './support/fixtures.js';
import { writeMistralFixture } from './support/mistralFixture.js';
import { mistralEmbedding } from './support/mistralReference.js';

interface ChildResult {
  attention: { kernel: string; operations: number };
  vectors: number[][];
}

/** `kernel`: BGE_GGUF_ATTENTION for the child ('default': unset, the widest kernel this CPU runs). */
function encodeInChild(model: string, pooling: Pooling, sequences: number[][], kernel: 'default' | 'avx2' | 'ggml'): ChildResult {
  const env = { ...process.env };
  if (kernel === 'default') delete env.BGE_GGUF_ATTENTION;
  else env.BGE_GGUF_ATTENTION = kernel;
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/attentionChild.ts')], {
    cwd: repoRoot,
    env,
    input: JSON.stringify({ model, pooling, sequences }),
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** The addon kernels this CPU runs, widest first, from its instruction-set flags ([] off Linux x64). */
function cpuKernels(): Array<'avx512' | 'avx2'> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return [];
  const flags = new Set(readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)![1].trim().split(/\s+/));
  if (!flags.has('fma') || !flags.has('f16c')) return [];
  return [...(flags.has('avx512f') ? (['avx512'] as const) : []), ...(flags.has('avx2') ? (['avx2'] as const) : [])];
}

/** The kernel this CPU should get by default. */
const expectedKernel = (): string => cpuKernels()[0] ?? 'ggml';

/** max |a/|a| - b| (the references are L2-normalized; the engine returns pooled states). */
function worstError(vectors: number[][], references: Float64Array[]): number {
  let worst = 0;
  vectors.forEach((v, i) => {
    const norm = Math.hypot(...v);
    v.forEach((x, j) => (worst = Math.max(worst, Math.abs(x / norm - references[i][j]))));
  });
  return worst;
}

const sequence = (length: number, seed: number, vocab: number, first: number, last?: number) =>
  Array.from({ length }, (_, i) => (i === 0 ? first : i === length - 1 && last !== undefined ? last : 5 + ((i * 7919 + seed * 104729) % (vocab - 10))));

describe('the attention kernel of this CPU', () => {
  it('is the one its instruction set allows', () => {
    expect(loadAddon('cpu').addon.attention().kernel).toBe(expectedKernel());
  });

  it('runs every attention of a long decode, and none of one under 16 tokens (plain attention)', async () => {
    const addon = loadAddon('cpu').addon;
    const engine = await createNativeEngine(fixturePath('tiny-bert-f32.gguf'), { threads: 2, parallelDecodes: 1, gpu: false });
    try {
      const layers = 2;
      const before = addon.attention().operations;
      await engine.encodeBatch([Int32Array.from(sequence(200, 1, 30000, 101, 102))], 'cls');
      const afterLong = addon.attention().operations;
      await engine.encodeBatch([Int32Array.from(sequence(10, 2, 30000, 101, 102))], 'cls');
      const afterShort = addon.attention().operations;
      expect(afterLong - before).toBe(expectedKernel() === 'ggml' ? 0 : layers);
      expect(afterShort).toBe(afterLong);
    } finally {
      await engine.dispose();
    }
  });
});

describe.each([
  ['BERT encoder, packed sequences (cls)', 'bert'],
  ['Mistral decoder, causal, grouped K/V heads (last token)', 'mistral'],
] as const)('%s: as close to float64 as llama.cpp\'s kernel', (_title, family) => {
  let model: string;
  let pooling: Pooling;
  let sequences: number[][];
  let references: Float64Array[];

  beforeAll(async () => {
    if (family === 'bert') {
      model = fixturePath('tiny-bert-f32.gguf');
      pooling = 'cls';
      sequences = [70, 130, 9, 200, 64].map((n, i) => sequence(n, i, 30000, 101, 102));
      const { weights } = await fixtureWeights('tiny-bert-f32.gguf');
      references = sequences.map((ids) => referenceEmbeddings(weights, ids).cls);
    } else {
      const fixture = await writeMistralFixture('attention-mistral-f32.gguf', { type: GgmlType.F32 });
      model = fixture.path;
      pooling = 'last';
      sequences = [100, 7, 150, 66].map((n, i) => sequence(n, i, 32000, 1));
      references = sequences.map((ids) => mistralEmbedding(fixture.weights, ids));
    }
  }, 120_000);

  it('gives vectors within the float64 tolerance, with every kernel this CPU runs, no further off than llama.cpp\'s own kernel', () => {
    const theirs = encodeInChild(model, pooling, sequences, 'ggml');
    expect(theirs.attention).toEqual({ kernel: 'ggml', operations: 0 });
    const theirError = worstError(theirs.vectors, references);
    expect(theirError).toBeLessThan(1e-3);
    for (const kernel of cpuKernels()) {
      const ours = encodeInChild(model, pooling, sequences, kernel === expectedKernel() ? 'default' : kernel);
      expect(ours.attention).toEqual({ kernel, operations: 2 }); // one decode, 2 layers
      const ourError = worstError(ours.vectors, references);
      console.log(`${family}: max |diff| vs float64 ${ourError.toExponential(2)} (${kernel} kernel), ${theirError.toExponential(2)} (llama.cpp kernel)`);
      expect(ourError).toBeLessThanOrEqual(theirError * 1.5 + 1e-6);
    }
  }, 120_000);
});
