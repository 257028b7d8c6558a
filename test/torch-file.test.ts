import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTensorAsF32 } from '../src/convert/safetensors.js';
import { readTorchStateDict } from '../src/convert/torchCheckpoint.js';

/** name → { shape, data } of a torch.save file, through the converter's reader. */
async function read(path: string): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
  const tensors = await readTorchStateDict(path);
  return new Map(await Promise.all(tensors.map(async (t) => [t.name, { shape: t.shape, data: await readTensorAsF32(t) }] as const)));
}
import { BgeGgufError } from '../src/errors.js';
import { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from '../src/gguf/quantize.js';
import { Rng } from './support/synthetic/random.js';
import { writeTorchStateDict } from './support/torchFixture.js';

const dir = mkdtempSync(join(tmpdir(), 'bge-pt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const values = (n: number, seed: number) => new Rng(seed).normalArray(n, 0, 0.5);

describe('torch.save state dicts written by Python (pickle + zipfile, torch.save\'s layout) read without Python', () => {
  it('reads a Linear state dict (float32) with its names, shapes and values', async () => {
    const weight = values(6 * 4, 1);
    const bias = values(6, 2);
    const path = join(dir, 'colbert_linear.pt');
    writeTorchStateDict(path, 'colbert_linear', [
      { name: 'weight', shape: [6, 4], values: weight },
      { name: 'bias', shape: [6], values: bias },
    ]);
    const dict = await read(path);
    expect([...dict.keys()]).toEqual(['weight', 'bias']);
    expect(dict.get('weight')!.shape).toEqual([6, 4]);
    expect(dict.get('weight')!.data).toEqual(weight);
    expect(dict.get('bias')!.data).toEqual(bias);
  });

  it('reads float16 and bfloat16 storages (what bge-m3 ships: float16)', async () => {
    const v = values(10, 3);
    const path = join(dir, 'half.pt');
    writeTorchStateDict(path, 'archive', [
      { name: 'h', shape: [2, 5], values: v, dtype: 'float16' },
      { name: 'b', shape: [10], values: v, dtype: 'bfloat16' },
    ]);
    const dict = await read(path);
    expect(dict.get('h')!.data).toEqual(Float32Array.from(v, (x) => f16BitsToF32(f32ToF16Bits(x))));
    expect(dict.get('b')!.data).toEqual(Float32Array.from(v, (x) => bf16BitsToF32(f32ToBf16Bits(x))));
  });

  it('refuses a non-contiguous (transposed) tensor with a typed error instead of misreading it', async () => {
    const path = join(dir, 't.pt');
    writeTorchStateDict(path, 'archive', [{ name: 'w', shape: [3, 7], values: values(21, 4), transposed: true }]);
    await expect(readTorchStateDict(path)).rejects.toThrow(/not contiguous/);
  });

  it('refuses a file that is not a torch zip, with a typed error', async () => {
    const path = join(dir, 'bad.pt');
    writeFileSync(path, 'not a zip at all');
    await expect(readTorchStateDict(path)).rejects.toBeInstanceOf(BgeGgufError);
  });
});
