import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagModel } from '../src/api/FlagModel.js';
import { registryNames } from '../src/models/registry.js';
import { repoRoot } from './support/fixtures.js';
import { runCli } from './support/serverProcess.js';

const lines = ['first line of text', 'the second one', 'and a third'];

describe('bge-gguf CLI', () => {
  let model: FlagModel;
  let reference: Float32Array[];
  beforeAll(async () => {
    model = await FlagModel.load(undefined);
    reference = await model.encodeCorpus(lines);
  });
  afterAll(async () => model?.dispose());

  it('has --help for every subcommand, --version, and rejects unknown flags', async () => {
    const version = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version;
    expect((await runCli(['--version'])).stdout.trim()).toBe(version);
    for (const sub of ['embed', 'serve', 'convert', 'models']) {
      const help = await runCli([sub, '--help']);
      expect(help.code, sub).toBe(0);
      expect(help.stdout).toContain(`Usage: bge-gguf ${sub}`);
    }
    const unknown = await runCli(['embed', '--frobnicate', 'hello']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown option '--frobnicate'/);
  });

  it('maps stdin lines 1:1 to jsonl output lines, with the library vectors', async () => {
    const out = await runCli(['embed', '--format', 'jsonl'], `${lines.join('\n')}\n`);
    expect(out.code).toBe(0);
    const rows = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { index: number; embedding: number[] });
    expect(rows.map((r) => r.index)).toEqual([0, 1, 2]);
    // shortest float32 decimals: read back as float32 they are the library's values exactly
    rows.forEach((r, i) => expect(Float32Array.from(r.embedding)).toEqual(reference[i]));
  });

  it('names the empty stdin line instead of dropping it', async () => {
    const out = await runCli(['embed', '--format', 'jsonl'], 'one\n\nthree\n');
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/stdin line 2 is empty/);
    expect(out.stdout).toBe('');
  });

  it('writes npy, f32, csv and json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bge-cli-'));
    const run = async (format: string) => {
      const file = join(dir, `out.${format}`);
      expect((await runCli(['embed', '--format', format, '--output', file, ...lines])).code).toBe(0);
      return readFileSync(file);
    };
    const npy = await run('npy');
    expect(npy.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    const headerLength = npy.readUInt16LE(8);
    expect(npy.subarray(10, 10 + headerLength).toString('latin1')).toContain("'descr': '<f4', 'fortran_order': False, 'shape': (3, 384)");
    expect((10 + headerLength) % 64).toBe(0);
    const body = npy.subarray(10 + headerLength);
    expect(new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length))).toEqual(Float32Array.from(reference.flatMap((v) => Array.from(v))));
    const f32 = await run('f32');
    expect(f32.length).toBe(3 * 384 * 4);
    expect(f32.readFloatLE(384 * 4)).toBe(reference[1][0]);
    const csv = (await run('csv')).toString().trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(Float32Array.from(csv[2].split(',').map(Number))).toEqual(reference[2]);
    const json = JSON.parse((await run('json')).toString()) as number[][];
    expect(Float32Array.from(json[0])).toEqual(reference[0]);
  });

  it('prints the similarity matrix for a few texts or when asked, never for many by default', async () => {
    const few = await runCli(['embed', ...lines]);
    expect(few.stdout).toMatch(/similarity/);
    const many = Array.from({ length: 12 }, (_, i) => `text number ${i}`);
    const manyOut = await runCli(['embed'], many.join('\n'));
    expect(manyOut.stdout).not.toMatch(/similarity/);
    expect(manyOut.stdout.trim().split('\n')).toHaveLength(12);
    const asked = await runCli(['embed', '--format', 'jsonl', '--similarity', ...lines]);
    expect(asked.stderr).toMatch(/similarity/);
  });

  it('lists every registry name with what it needs', async () => {
    const out = await runCli(['models', '--json']);
    const rows = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string; needs: string });
    expect(rows.map((r) => r.name)).toEqual(registryNames());
    const needs = Object.fromEntries(rows.map((r) => [r.name, r.needs]));
    expect(needs['all-MiniLM-L6-v2']).toMatch(/^bundled/);
    expect(needs['bge-small-en-v1.5']).toMatch(/^download on first use: hf:/);
    expect(needs['bge-large-zh-v1.5']).toMatch(/convert/);
    expect(needs['bge-multilingual-gemma2']).toMatch(/your own GGUF/); // FlagLLMModel
  });
});
