/** `bge-gguf doctor` reports the addon in use, the CPU backend llama.cpp picked, versions and a timed encode. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDoctor } from '../src/cli/doctor.js';
import { fixturePath, repoRoot } from './support/fixtures.js';

describe('doctor', () => {
  it('names the addon file and variant, the CPU backend and why, the CPU kernels, versions, GPUs, and times an encode', async () => {
    const report = await runDoctor({ model: fixturePath('tiny-bert-f16.gguf'), encode: true });
    const nlc = JSON.parse(readFileSync(join(repoRoot, 'node_modules', 'node-llama-cpp', 'package.json'), 'utf8')).version;
    expect(report).toContain(`node-llama-cpp ${nlc}`);
    expect(report).toMatch(/native addon: cpu variant, (build\/Release|prebuilds\/linux-x64)\/bge_gguf\.node/);
    expect(report).toMatch(/CPU backend: libggml-cpu-[\w.-]+\.so, the highest-scoring .* \(\w+/);
    expect(report).toMatch(/CPU kernels: (the addon's (AVX-512|AVX2) attention|llama\.cpp's)/);
    expect(report).toMatch(/usable cores \d+/);
    expect(report).toMatch(/GPU cuda: /);
    expect(report).toMatch(/encode: .*tiny-bert-f16\.gguf on native: load \d+ ms/);
  });
});
