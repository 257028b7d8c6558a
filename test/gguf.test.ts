/** GGUF writer/reader round trips, and F16/BF16/Q8_0 encodings checked against their definitions. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BgeGgufError, InvalidInputError, ModelNotFoundError } from '../src/errors.js';
import {
  f16BitsToF32,
  f32ToF16Bits,
  GgmlType,
  GgufValueType,
  gv,
  readGguf,
  readTensorF32,
  writeGguf,
  type GgufTensorInput,
  type GgufValue,
} from '../src/gguf/index.js';
import { Rng } from './support/synthetic/random.js';
import { bgeVocabPath } from './support/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'bge-gguf-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const f32 = (x: number) => Math.fround(x);

function randomData(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * rng.normal();
  return out;
}

/** Decodes IEEE binary16 bits from the definition: (-1)^s * 2^(e-15) * 1.m, subnormals 2^-14 * 0.m. */
function halfValue(bits: number): number {
  const s = bits >> 15 ? -1 : 1;
  const e = (bits >> 10) & 31;
  const m = bits & 1023;
  if (e === 0) return s * 2 ** -14 * (m / 1024);
  if (e === 31) return m ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + m / 1024);
}

/** Every finite half value, sorted: the nearest one to x is what F16 must store. */
const allHalves = (() => {
  const v: number[] = [];
  for (let b = 0; b < 0x7c00; b++) v.push(halfValue(b), -halfValue(b));
  return Float64Array.from(new Set(v)).sort();
})();

function nearestHalves(x: number): number[] {
  let lo = 0;
  let hi = allHalves.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (allHalves[mid] <= x) lo = mid;
    else hi = mid;
  }
  const dLo = Math.abs(x - allHalves[lo]);
  const dHi = Math.abs(x - allHalves[hi]);
  if (dLo === dHi) return [allHalves[lo], allHalves[hi]];
  return [dLo < dHi ? allHalves[lo] : allHalves[hi]];
}

describe('F16 encoding', () => {
  it('matches known IEEE binary16 bit patterns', () => {
    const known: Array<[number, number]> = [
      [0, 0x0000], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [0.5, 0x3800], [65504, 0x7bff],
      [1 / 3, 0x3555], [0.1, 0x2e66], [2 ** -24, 0x0001], [2 ** -14, 0x0400], [1e6, 0x7c00], [-Infinity, 0xfc00],
      // exact ties go to the even mantissa
      [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [2 ** -25, 0x0000], [3 * 2 ** -25, 0x0002], [65520, 0x7c00],
    ];
    for (const [x, bits] of known) expect(f32ToF16Bits(x)).toBe(bits);
    expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(NaN)))).toBe(true);
  });

  it('rounds every value to the nearest half (ties to even)', () => {
    const data = Float32Array.from([...randomData(4000, 1), ...randomData(1000, 2, 1e-5), ...randomData(1000, 3, 3000)]);
    for (const x of data) {
      const bits = f32ToF16Bits(x);
      const y = halfValue(bits);
      const candidates = nearestHalves(x);
      expect(candidates).toContain(y);
      if (candidates.length === 2) expect(bits & 1).toBe(0); // tie: even mantissa
      expect(f16BitsToF32(bits)).toBe(y);
    }
  });
});

describe('GGUF round trip', () => {
  const metadata: Array<[string, GgufValue]> = [
    ['general.architecture', gv.str('bert')],
    ['test.u8', { type: GgufValueType.UINT8, value: 255 }],
    ['test.i8', { type: GgufValueType.INT8, value: -128 }],
    ['test.u16', { type: GgufValueType.UINT16, value: 65535 }],
    ['test.i16', { type: GgufValueType.INT16, value: -32768 }],
    ['test.u32', gv.u32(4294967295)],
    ['test.i32', gv.i32(-2147483648)],
    ['test.f32', gv.f32(f32(1e-12))],
    ['test.f64', { type: GgufValueType.FLOAT64, value: Math.PI }],
    ['test.bool', gv.bool(true)],
    ['test.u64', { type: GgufValueType.UINT64, value: 2n ** 63n + 5n }],
    ['test.i64', { type: GgufValueType.INT64, value: -12345678901234 }],
    ['test.unicode', gv.str('naïve ▁tokens 東京 😀')],
    ['test.empty', gv.str('')],
    ['test.strings', gv.strs(['[PAD]', '▁hello', '', '##x'])],
    ['test.ints', gv.i32s([3, 1, -1])],
    ['test.floats', gv.f32s([0.5, -2.25])],
    ['test.bools', { type: GgufValueType.ARRAY, itemType: GgufValueType.BOOL, value: [true, false] }],
  ];
  const tensors: GgufTensorInput[] = [
    { name: 'a.f32', shape: [5], type: GgmlType.F32, data: randomData(5, 10) },
    { name: 'b.f16', shape: [7, 3], type: GgmlType.F16, data: randomData(21, 11) },
    { name: 'c.q8_0', shape: [64, 3, 2], type: GgmlType.Q8_0, data: randomData(384, 12) },
    { name: 'd.bf16', shape: [4, 2], type: GgmlType.BF16, data: randomData(8, 13) },
    { name: 'e.q8_0.zero', shape: [32], type: GgmlType.Q8_0, data: new Float32Array(32) },
  ];

  for (const alignment of [32, 64]) {
    it(`keeps metadata, shapes, types and values (alignment ${alignment})`, async () => {
      const path = join(dir, `round-${alignment}.gguf`);
      await writeGguf(path, metadata, tensors, { alignment });
      const file = await readGguf(path);
      expect(file.version).toBe(3);
      const expected = new Map(metadata);
      if (alignment !== 32) expected.set('general.alignment', gv.u32(alignment));
      expect(file.metadata).toEqual(expected);
      expect(file.tensors.map((t) => [t.name, t.shape, t.type])).toEqual(tensors.map((t) => [t.name, t.shape, t.type]));
      for (const info of file.tensors) expect(info.offset % alignment).toBe(0);

      const values = await Promise.all(file.tensors.map((info) => readTensorF32(path, info)));
      expect(values[0]).toEqual(tensors[0].data); // F32 is exact
      values[1].forEach((y, i) => expect(nearestHalves(tensors[1].data[i])).toContain(y));
      values[3].forEach((y, i) => expect(Math.abs(y - tensors[3].data[i])).toBeLessThanOrEqual(Math.abs(tensors[3].data[i]) * 2 ** -8));
      expect(values[4]).toEqual(new Float32Array(32));
    });
  }

  it('lays Q8_0 out as ggml blocks: f16 d = max|x|/127, then 32 int8 q = round(x/d)', async () => {
    const path = join(dir, 'q8.gguf');
    const data = randomData(32 * 24, 20, 0.7);
    data[5] = 0.5; // an exact midpoint candidate somewhere
    await writeGguf(path, [], [{ name: 'q', shape: [96, 8], type: GgmlType.Q8_0, data }]);
    const [info] = (await readGguf(path)).tensors;
    expect(info.byteLength).toBe(24 * 34);
    const raw = readFileSync(path).subarray(info.offset, info.offset + info.byteLength);
    const decoded = await readTensorF32(path, info);
    for (let b = 0; b < 24; b++) {
      const block = data.subarray(b * 32, b * 32 + 32);
      const amax = Math.max(...Array.from(block, Math.abs));
      const d = amax / 127;
      const dHalf = halfValue(raw[b * 34] | (raw[b * 34 + 1] << 8));
      expect(nearestHalves(f32(d))).toContain(dHalf);
      for (let j = 0; j < 32; j++) {
        const q = (raw[b * 34 + 2 + j] << 24) >> 24; // int8
        expect(Math.abs(q - block[j] / d)).toBeLessThanOrEqual(0.5 + 1e-6);
        if (Math.abs(block[j]) === amax) expect(Math.abs(q)).toBe(127);
        expect(decoded[b * 32 + j]).toBe(f32(dHalf * q));
        // total error: half a step plus the scale's f16 rounding
        expect(Math.abs(decoded[b * 32 + j] - block[j])).toBeLessThanOrEqual(d / 2 + 127 * Math.abs(d - dHalf) + 1e-7);
      }
    }
  });
});

describe('lazy tensors', () => {
  it('writes data produced on demand, one tensor at a time', async () => {
    const path = join(dir, 'lazy.gguf');
    const a = randomData(64, 30);
    const b = randomData(96, 31);
    const produced: string[] = [];
    await writeGguf(path, [], [
      { name: 'a', shape: [64], type: GgmlType.F32, data: () => (produced.push('a'), a) },
      { name: 'b', shape: [32, 3], type: GgmlType.F32, data: async () => (produced.push('b'), b) },
    ]);
    expect(produced).toEqual(['a', 'b']);
    const file = await readGguf(path);
    expect(await readTensorF32(path, file.tensors[0])).toEqual(a);
    expect(await readTensorF32(path, file.tensors[1])).toEqual(b);
  });

  it('removes the partial file when a lazy tensor has the wrong size', async () => {
    const path = join(dir, 'lazy-bad.gguf');
    const write = writeGguf(path, [], [{ name: 'a', shape: [64], type: GgmlType.F32, data: () => new Float32Array(63) }]);
    await expect(write).rejects.toBeInstanceOf(InvalidInputError);
    expect(existsSync(path)).toBe(false);
  });
});

describe('reading GGUF files written by llama.cpp tools', () => {
  it("reads the bge vocab GGUF's metadata (bge-small-en-v1.5)", async () => {
    const file = await readGguf(bgeVocabPath());
    const value = (key: string) => file.metadata.get(key)?.value;
    expect(value('general.architecture')).toBe('bert');
    expect(value('bert.embedding_length')).toBe(384);
    expect(value('bert.block_count')).toBe(12);
    expect(value('bert.context_length')).toBe(512);
    expect(value('tokenizer.ggml.model')).toBe('bert');
    const tokens = file.metadata.get('tokenizer.ggml.tokens')!.value as string[];
    expect(tokens.length).toBe(30522);
    expect(tokens[101]).toBe('[CLS]');
    expect(tokens[102]).toBe('[SEP]');
    expect(value('tokenizer.ggml.cls_token_id')).toBe(101);
    expect(file.tensors).toEqual([]);
  });
});

describe('errors', () => {
  it('rejects a missing file, a non-GGUF file and a truncated file with typed errors', async () => {
    await expect(readGguf(join(dir, 'nope.gguf'))).rejects.toBeInstanceOf(ModelNotFoundError);
    const text = join(dir, 'text.gguf');
    writeFileSync(text, 'this is not a gguf file at all, just some text');
    await expect(readGguf(text)).rejects.toMatchObject({ code: 'MODEL_LOAD_FAILED' });
    const good = join(dir, 'good.gguf');
    await writeGguf(good, [['general.architecture', gv.str('bert')]], [{ name: 't', shape: [64], type: GgmlType.F32, data: new Float32Array(64) }]);
    const bytes = readFileSync(good);
    for (const cut of [10, 40, bytes.length - 8]) {
      const truncated = join(dir, `cut-${cut}.gguf`);
      writeFileSync(truncated, bytes.subarray(0, cut));
      const error = await readGguf(truncated).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BgeGgufError);
      expect((error as BgeGgufError).code).toBe('MODEL_LOAD_FAILED');
    }
  });

  it('rejects tensors the writer cannot store', async () => {
    const path = join(dir, 'bad.gguf');
    const bad: GgufTensorInput[][] = [
      [{ name: 'x', shape: [4, 2], type: GgmlType.F32, data: new Float32Array(7) }],
      [{ name: 'x', shape: [48, 2], type: GgmlType.Q8_0, data: new Float32Array(96) }],
      [{ name: 'x', shape: [4], type: GgmlType.Q4_K, data: new Float32Array(4) }],
      [{ name: 'x'.repeat(64), shape: [4], type: GgmlType.F32, data: new Float32Array(4) }],
      [
        { name: 'x', shape: [1], type: GgmlType.F32, data: new Float32Array(1) },
        { name: 'x', shape: [1], type: GgmlType.F32, data: new Float32Array(1) },
      ],
    ];
    for (const tensors of bad) await expect(writeGguf(path, [], tensors)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(writeGguf(path, [['k', gv.u32(-1)]], [])).rejects.toBeInstanceOf(InvalidInputError);
    await expect(writeGguf(path, [['k', gv.u32(1)], ['k', gv.u32(2)]], [])).rejects.toBeInstanceOf(InvalidInputError);
  });
});
