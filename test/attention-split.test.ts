/**
 * Which attention a CPU decode gets when flashAttention is unset, checked by behaviour: the default
 * engine's vectors equal, bit for bit, those of an engine pinned to the attention it should get.
 * - With llama.cpp's own kernel (BGE_GGUF_CPU_KERNELS=ggml, CPUs without AVX2), decodes under 64
 *   tokens get plain attention (ggml's flash attention is row by row there and rounds Q, K and V
 *   to F16), longer ones flash attention.
 * - With the addon's kernel (native/kernels; x86-64 with AVX2), the line is at 16 tokens.
 * A packed batch counts its total tokens.
 * Either way short decodes stay as close to the float64 reference as plain attention gets.
 * Each kernel runs in a child process (the choice is made when the addon loads).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { plainAttentionBelow } from '../src/runtime/native.js';
import { loadAddon } from '../src/runtime/nativeBinding.js';
import { referenceEmbeddings } from './support/bertReference.js';
import { fixturePath, fixtureWeights, repoRoot } from './support/fixtures.js';

const FIXTURE = 'tiny-bert-f32.gguf';
const LENGTHS = [3, 13, 15, 16, 40, 63, 64, 200, 512];
const sequence = (length: number) => Array.from({ length }, (_, i) => (i === 0 ? 101 : i === length - 1 ? 102 : 1000 + ((i * 7919) % 28000)));

interface SplitResult {
  kernel: string;
  results: Record<string, { equals: string; vectors: number[][] }>;
}

function runChild(attention: 'default' | 'ggml'): SplitResult {
  const env = { ...process.env };
  if (attention === 'ggml') env.BGE_GGUF_CPU_KERNELS = 'ggml';
  else delete env.BGE_GGUF_CPU_KERNELS;
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/attentionSplitChild.ts'), fixturePath(FIXTURE), LENGTHS.join(',')], {
    cwd: repoRoot,
    env,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!);
}

describe('attention by decode size (CPU, flashAttention unset)', () => {
  const ownKernel = loadAddon('cpu').addon.cpuKernels().isa !== 'ggml';
  let withGgml: SplitResult;
  let withDefault: SplitResult;
  beforeAll(() => {
    withGgml = runChild('ggml');
    withDefault = runChild('default');
  }, 120_000);

  const expectSplit = (result: SplitResult, below: number) => {
    for (const length of LENGTHS) expect([length, result.results[length].equals]).toEqual([length, length < below ? 'plain' : 'flash']);
    expect(result.results.packed.equals).toBe(108 < below ? 'plain' : 'flash'); // 8 sequences, 108 tokens
  };

  it("llama.cpp's kernel: plain attention under 64 tokens, flash attention from there", () => {
    expect(withGgml.kernel).toBe('ggml');
    expect(plainAttentionBelow('ggml')).toBe(64);
    expectSplit(withGgml, 64);
  });

  it(ownKernel ? "the addon's kernel: plain attention under 16 tokens, flash attention from there" : "this CPU has no addon kernel: as with llama.cpp's", () => {
    expect(withDefault.kernel).toBe(loadAddon('cpu').addon.cpuKernels().isa);
    expect(plainAttentionBelow('avx512')).toBe(16);
    expectSplit(withDefault, plainAttentionBelow(withDefault.kernel as 'ggml'));
  });

  it('decodes of 16 to 63 tokens are as close to the float64 reference on the addon kernel as on plain attention', async () => {
    const { weights } = await fixtureWeights(FIXTURE);
    const error = async (result: SplitResult) => {
      let worst = 0;
      for (const length of [16, 40, 63]) {
        const reference = referenceEmbeddings(weights, sequence(length)).cls;
        const [v] = result.results[length].vectors;
        const norm = Math.hypot(...v);
        v.forEach((x, i) => (worst = Math.max(worst, Math.abs(x / norm - reference[i]))));
      }
      return worst;
    };
    const plainError = await error(withGgml); // plain attention there
    const defaultError = await error(withDefault);
    console.log(`16-63 token decodes vs float64: max |diff| ${plainError.toExponential(2)} plain attention, ${defaultError.toExponential(2)} default (${withDefault.kernel})`);
    expect(defaultError).toBeLessThanOrEqual(plainError * 1.1);
  });
});
