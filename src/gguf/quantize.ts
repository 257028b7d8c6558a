/**
 * F16, BF16 and Q8_0 encodings with ggml's exact byte layouts.
 * Q8_0 block (34 bytes): f16 scale d = max|x|/127, then 32 int8 q = roundf(x * (1/d)),
 * computed in float32 like ggml's quantize_row_q8_0_ref.
 */
import { GgmlType } from './types.js';

export const Q8_0_BLOCK = 32;
export const Q8_0_BLOCK_BYTES = 34;

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE float32 -> binary16 bits, round to nearest even (what ggml's conversion does). */
export function f32ToF16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); // inf / nan
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    if (e < -10) return sign; // underflows to signed zero
    const full = mant | 0x800000; // implicit leading bit
    const shift = 14 - e; // 14..24
    let half = full >>> shift;
    const rest = full & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    if (rest > midpoint || (rest === midpoint && (half & 1))) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half += 1; // may carry into exponent: still correct
  return sign | half;
}

export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** IEEE float32 -> bfloat16 bits, round to nearest even (ggml_compute_fp32_to_bf16). */
export function f32ToBf16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0];
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 64) & 0xffff; // quiet nan
  return ((x + (0x7fff + ((x >>> 16) & 1))) >>> 16) & 0xffff;
}

export function bf16BitsToF32(h: number): number {
  u32Scratch[0] = (h & 0xffff) << 16;
  return f32Scratch[0];
}

/** C roundf: halves away from zero. */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

/** 16-bit little-endian encoding of each value (F16 or BF16, by `toBits`). */
function pack16(data: Float32Array, toBits: (x: number) => number): Uint8Array {
  const out = new Uint8Array(data.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setUint16(i * 2, toBits(data[i]), true);
  return out;
}

function unpack16(bytes: Uint8Array, count: number, fromBits: (bits: number) => number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = fromBits(view.getUint16(i * 2, true));
  return out;
}

export const quantizeF16 = (data: Float32Array): Uint8Array => pack16(data, f32ToF16Bits);
export const dequantizeF16 = (bytes: Uint8Array, count: number): Float32Array => unpack16(bytes, count, f16BitsToF32);
export const quantizeBf16 = (data: Float32Array): Uint8Array => pack16(data, f32ToBf16Bits);
export const dequantizeBf16 = (bytes: Uint8Array, count: number): Float32Array => unpack16(bytes, count, bf16BitsToF32);

/** data.length must be a multiple of 32 (ggml requires each row to be whole blocks). */
export function quantizeQ8_0(data: Float32Array): Uint8Array {
  if (data.length % Q8_0_BLOCK !== 0) {
    throw new RangeError(`Q8_0 needs a multiple of ${Q8_0_BLOCK} values, got ${data.length}`);
  }
  const blocks = data.length / Q8_0_BLOCK;
  const out = new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const base = b * Q8_0_BLOCK;
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK; j++) amax = Math.max(amax, Math.abs(data[base + j]));
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const o = b * Q8_0_BLOCK_BYTES;
    view.setUint16(o, f32ToF16Bits(d), true);
    for (let j = 0; j < Q8_0_BLOCK; j++) {
      view.setInt8(o + 2 + j, roundHalfAway(Math.fround(data[base + j] * id)));
    }
  }
  return out;
}

export function dequantizeQ8_0(bytes: Uint8Array, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let b = 0; b < count / Q8_0_BLOCK; b++) {
    const o = b * Q8_0_BLOCK_BYTES;
    const d = f16BitsToF32(view.getUint16(o, true));
    for (let j = 0; j < Q8_0_BLOCK; j++) out[b * Q8_0_BLOCK + j] = d * view.getInt8(o + 2 + j);
  }
  return out;
}

/** [elements per block, bytes per block] for every type ggml knows the size of. */
const BLOCK_LAYOUT: Partial<Record<GgmlType, [number, number]>> = {
  [GgmlType.F32]: [1, 4],
  [GgmlType.F16]: [1, 2],
  [GgmlType.BF16]: [1, 2],
  [GgmlType.Q4_0]: [32, 18],
  [GgmlType.Q4_1]: [32, 20],
  [GgmlType.Q5_0]: [32, 22],
  [GgmlType.Q5_1]: [32, 24],
  [GgmlType.Q8_0]: [32, 34],
  [GgmlType.Q8_1]: [32, 36],
  [GgmlType.Q2_K]: [256, 84],
  [GgmlType.Q3_K]: [256, 110],
  [GgmlType.Q4_K]: [256, 144],
  [GgmlType.Q5_K]: [256, 176],
  [GgmlType.Q6_K]: [256, 210],
  [GgmlType.Q8_K]: [256, 292],
};

export function blockLayout(type: GgmlType): [number, number] | undefined {
  return BLOCK_LAYOUT[type];
}

/** Bytes a tensor of `count` elements takes, or undefined for a type we do not know. */
export function tensorByteLength(type: GgmlType, count: number): number | undefined {
  const layout = BLOCK_LAYOUT[type];
  if (!layout) return undefined;
  return Math.ceil(count / layout[0]) * layout[1];
}

/** Types the writer can produce from float32 and the reader can turn back into float32. */
export const CONVERTIBLE_TYPES: readonly GgmlType[] = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0];

export function encodeTensor(type: GgmlType, data: Float32Array): Uint8Array {
  switch (type) {
    case GgmlType.F32:
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    case GgmlType.F16:
      return quantizeF16(data);
    case GgmlType.BF16:
      return quantizeBf16(data);
    case GgmlType.Q8_0:
      return quantizeQ8_0(data);
    default:
      throw new RangeError(`cannot encode ggml type ${GgmlType[type] ?? type}`);
  }
}

export function decodeTensor(type: GgmlType, bytes: Uint8Array, count: number): Float32Array {
  switch (type) {
    case GgmlType.F32: {
      const out = new Float32Array(count);
      new Uint8Array(out.buffer).set(bytes.subarray(0, count * 4));
      return out;
    }
    case GgmlType.F16:
      return dequantizeF16(bytes, count);
    case GgmlType.BF16:
      return dequantizeBf16(bytes, count);
    case GgmlType.Q8_0:
      return dequantizeQ8_0(bytes, count);
    default:
      throw new RangeError(`cannot decode ggml type ${GgmlType[type] ?? type}`);
  }
}

/** The float32 values a tensor holds after being written as `type` and read back. */
export function roundTripValues(type: GgmlType, data: Float32Array): Float32Array {
  if (type === GgmlType.F32) return data;
  return decodeTensor(type, encodeTensor(type, data), data.length);
}
