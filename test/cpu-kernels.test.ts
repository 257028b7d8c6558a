/**
 * The addon's CPU kernels (native/kernels) run flash attention, matrix products with F16/F32
 * weights over decodes of 16 tokens or more (F32) or 48 (F16), and GELU from 64 tokens, where the CPU has AVX2 or AVX-512. Checked by
 * behaviour: the instruction set is the one this CPU allows, decodes go through the kernels by
 * size, and their vectors are as close to the float64 references as those of llama.cpp's own
 * kernels, which a child process with BGE_GGUF_CPU_KERNELS=ggml runs on the same packed batches
 * (several sequences per decode, so every mask shape occurs: rows of other sequences, causal rows,
 * grouped K/V heads in the decoder), for every instruction set this CPU has.
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
import { fixturePath, fixtureWeights, repoRoot, type FixtureName } from './support/fixtures.js';
import { writeMistralFixture } from './support/mistralFixture.js';
import { mistralEmbedding } from './support/mistralReference.js';

interface ChildResult {
  kernels: { isa: string; attention: number; matMul: number; gelu: number };
  vectors: number[][];
}

/** `kernels`: BGE_GGUF_CPU_KERNELS for the child ('default': unset, the widest this CPU runs). */
function encodeInChild(model: string, pooling: Pooling, sequences: number[][], kernels: 'default' | 'avx2' | 'ggml'): ChildResult {
  const env = { ...process.env };
  if (kernels === 'default') delete env.BGE_GGUF_CPU_KERNELS;
  else env.BGE_GGUF_CPU_KERNELS = kernels;
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/kernelsChild.ts')], {
    cwd: repoRoot,
    env,
    input: JSON.stringify({ model, pooling, sequences }),
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

/** The instruction sets of the addon's kernels this CPU runs, widest first ([] off Linux x64). */
function cpuIsas(): Array<'avx512' | 'avx2'> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return [];
  const flags = new Set(readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)![1].trim().split(/\s+/));
  if (!flags.has('fma') || !flags.has('f16c')) return [];
  return [...(flags.has('avx512f') ? (['avx512'] as const) : []), ...(flags.has('avx2') ? (['avx2'] as const) : [])];
}

const expectedIsa = (): string => cpuIsas()[0] ?? 'ggml';

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

describe("the addon's CPU kernels", () => {
  it('run with the widest instruction set this CPU allows', () => {
    expect(loadAddon('cpu').addon.cpuKernels().isa).toBe(expectedIsa());
  });

  it('take every attention of a decode of 16 tokens or more and, with F32 weights, every matrix product of one of 16 or more, and its GELUs from 64', async () => {
    const addon = loadAddon('cpu').addon;
    const engine = await createNativeEngine(fixturePath('tiny-bert-f32.gguf'), { threads: 2, parallelDecodes: 1, gpu: false });
    const layers = 2;
    const own = expectedIsa() !== 'ggml';
    const delta = async (length: number) => {
      const before = addon.cpuKernels();
      await engine.encodeBatch([Int32Array.from(sequence(length, length, 30000, 101, 102))], 'cls');
      const after = addon.cpuKernels();
      return { attention: after.attention - before.attention, matMul: after.matMul - before.matMul, gelu: after.gelu - before.gelu };
    };
    try {
      const long = await delta(200);
      expect(long.attention).toBe(own ? layers : 0);
      expect(long.gelu).toBe(own ? layers : 0);
      // Q, K, V, output, FFN up and down per layer, whichever way llama.cpp fuses them
      if (own) expect(long.matMul % layers === 0 && long.matMul >= 4 * layers).toBe(true);
      else expect(long.matMul).toBe(0);
      expect(await delta(64)).toEqual({ attention: own ? layers : 0, matMul: long.matMul, gelu: own ? layers : 0 });
      expect(await delta(16)).toEqual({ attention: own ? layers : 0, matMul: long.matMul, gelu: 0 });
      expect(await delta(15)).toEqual({ attention: 0, matMul: 0, gelu: 0 });
    } finally {
      await engine.dispose();
    }
  });
});

describe.each([
  ['BERT encoder F32, packed sequences (cls)', 'tiny-bert-f32.gguf'],
  ['BERT encoder F16, packed sequences (cls)', 'tiny-bert-f16.gguf'],
  ['Mistral decoder F32, causal, grouped K/V heads (last token)', 'mistral'],
] as const)("%s: as close to float64 as llama.cpp's kernels", (_title, family) => {
  let model: string;
  let pooling: Pooling;
  let sequences: number[][];
  let references: Float64Array[];

  beforeAll(async () => {
    if (family !== 'mistral') {
      model = fixturePath(family as FixtureName);
      pooling = 'cls';
      sequences = [70, 130, 9, 200, 64].map((n, i) => sequence(n, i, 30000, 101, 102));
      const { weights } = await fixtureWeights(family as FixtureName);
      references = sequences.map((ids) => referenceEmbeddings(weights, ids).cls);
    } else {
      const fixture = await writeMistralFixture('kernels-mistral-f32.gguf', { type: GgmlType.F32 });
      model = fixture.path;
      pooling = 'last';
      sequences = [100, 7, 150, 66].map((n, i) => sequence(n, i, 32000, 1));
      references = sequences.map((ids) => mistralEmbedding(fixture.weights, ids));
    }
  }, 120_000);

  it('gives vectors within the float64 tolerance with every instruction set this CPU runs, no further off than llama.cpp', () => {
    const theirs = encodeInChild(model, pooling, sequences, 'ggml');
    expect(theirs.kernels).toEqual({ isa: 'ggml', attention: 0, matMul: 0, gelu: 0 });
    const theirError = worstError(theirs.vectors, references);
    expect(theirError).toBeLessThan(1e-3);
    for (const isa of cpuIsas()) {
      const ours = encodeInChild(model, pooling, sequences, isa === expectedIsa() ? 'default' : isa);
      expect(ours.kernels.isa).toBe(isa);
      expect(ours.kernels.attention).toBe(2); // one decode, 2 layers
      expect(ours.kernels.matMul).toBeGreaterThan(0);
      if (family !== 'mistral') expect(ours.kernels.gelu).toBe(2); // Mistral's FFN is SiLU-gated
      const ourError = worstError(ours.vectors, references);
      console.log(`${family}: max |diff| vs float64 ${ourError.toExponential(2)} (${isa} kernels), ${theirError.toExponential(2)} (llama.cpp's)`);
      expect(ourError).toBeLessThanOrEqual(theirError * 1.5 + 1e-6);
    }
  }, 120_000);
});
