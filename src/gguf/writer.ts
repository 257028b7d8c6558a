/**
 * GGUF v3 writer. The header (metadata + tensor infos) is built in memory; tensor data is
 * converted and written one tensor at a time.
 */
import { open, rename, rm } from 'node:fs/promises';
import { InvalidInputError } from '../errors.js';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC } from './reader.js';
import { encodeTensor, Q8_0_BLOCK, tensorByteLength } from './quantize.js';
import { GgmlType, GgufValueType, type GgufTensorInput, type GgufValue } from './types.js';

export interface WriteGgufOptions {
  alignment?: number;
}

/**
 * A tensor whose float32 data may be produced only when it is written (a converter can then
 * hold one tensor in memory at a time).
 */
export type WritableTensor = Omit<GgufTensorInput, 'data'> & {
  data: Float32Array | (() => Float32Array | Promise<Float32Array>);
};

const MAX_TENSOR_NAME = 63; // GGML_MAX_NAME (64) including the terminating NUL
const WRITABLE = new Set([GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0]);

/** Little-endian byte builder that grows as needed. */
class ByteBuilder {
  private buf = Buffer.alloc(1 << 16);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  u8(v: number): void { this.room(1); this.buf.writeUInt8(v, this.length); this.length += 1; }
  i8(v: number): void { this.room(1); this.buf.writeInt8(v, this.length); this.length += 1; }
  u16(v: number): void { this.room(2); this.buf.writeUInt16LE(v, this.length); this.length += 2; }
  i16(v: number): void { this.room(2); this.buf.writeInt16LE(v, this.length); this.length += 2; }
  u32(v: number): void { this.room(4); this.buf.writeUInt32LE(v, this.length); this.length += 4; }
  i32(v: number): void { this.room(4); this.buf.writeInt32LE(v, this.length); this.length += 4; }
  f32(v: number): void { this.room(4); this.buf.writeFloatLE(v, this.length); this.length += 4; }
  f64(v: number): void { this.room(8); this.buf.writeDoubleLE(v, this.length); this.length += 8; }
  u64(v: number | bigint): void { this.room(8); this.buf.writeBigUInt64LE(BigInt(v), this.length); this.length += 8; }
  i64(v: number | bigint): void { this.room(8); this.buf.writeBigInt64LE(BigInt(v), this.length); this.length += 8; }
  string(s: string): void {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.room(bytes.length);
    bytes.copy(this.buf, this.length);
    this.length += bytes.length;
  }
  zeros(n: number): void { this.room(n); this.buf.fill(0, this.length, this.length + n); this.length += n; }
  bytes(): Buffer { return this.buf.subarray(0, this.length); }
}

function checkInteger(key: string, v: unknown, min: bigint, max: bigint): void {
  const ok = (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
  if (!ok || BigInt(v as number | bigint) < min || BigInt(v as number | bigint) > max) {
    throw new InvalidInputError(`metadata ${key}: ${String(v)} is not an integer in [${min}, ${max}]`);
  }
}

function writeScalar(b: ByteBuilder, key: string, type: GgufValueType, v: unknown): void {
  const num = (): number => {
    if (typeof v !== 'number') throw new InvalidInputError(`metadata ${key}: expected a number, got ${typeof v}`);
    return v;
  };
  switch (type) {
    case GgufValueType.UINT8: checkInteger(key, v, 0n, 0xffn); return b.u8(Number(v));
    case GgufValueType.INT8: checkInteger(key, v, -0x80n, 0x7fn); return b.i8(Number(v));
    case GgufValueType.UINT16: checkInteger(key, v, 0n, 0xffffn); return b.u16(Number(v));
    case GgufValueType.INT16: checkInteger(key, v, -0x8000n, 0x7fffn); return b.i16(Number(v));
    case GgufValueType.UINT32: checkInteger(key, v, 0n, 0xffffffffn); return b.u32(Number(v));
    case GgufValueType.INT32: checkInteger(key, v, -0x80000000n, 0x7fffffffn); return b.i32(Number(v));
    case GgufValueType.UINT64: checkInteger(key, v, 0n, 0xffffffffffffffffn); return b.u64(v as number | bigint);
    case GgufValueType.INT64: checkInteger(key, v, -(1n << 63n), (1n << 63n) - 1n); return b.i64(v as number | bigint);
    case GgufValueType.FLOAT32: return b.f32(num());
    case GgufValueType.FLOAT64: return b.f64(num());
    case GgufValueType.BOOL:
      if (typeof v !== 'boolean') throw new InvalidInputError(`metadata ${key}: expected a boolean`);
      return b.u8(v ? 1 : 0);
    case GgufValueType.STRING:
      if (typeof v !== 'string') throw new InvalidInputError(`metadata ${key}: expected a string`);
      return b.string(v);
    default:
      throw new InvalidInputError(`metadata ${key}: unknown value type ${type}`);
  }
}

function writeKeyValue(b: ByteBuilder, key: string, value: GgufValue): void {
  b.string(key);
  b.u32(value.type);
  if (value.type !== GgufValueType.ARRAY) return writeScalar(b, key, value.type, value.value);
  if (value.itemType === GgufValueType.ARRAY) throw new InvalidInputError(`metadata ${key}: nested arrays are not supported`);
  b.u32(value.itemType);
  b.u64(value.value.length);
  for (const item of value.value) writeScalar(b, key, value.itemType, item);
}

function checkTensor(t: WritableTensor): number {
  if (!t.name || Buffer.byteLength(t.name, 'utf8') > MAX_TENSOR_NAME) {
    throw new InvalidInputError(`tensor name "${t.name}" must be 1..${MAX_TENSOR_NAME} bytes`);
  }
  if (t.shape.length < 1 || t.shape.length > 4 || t.shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new InvalidInputError(`tensor ${t.name}: shape [${t.shape}] must have 1..4 positive integer dimensions`);
  }
  const count = t.shape.reduce((a, d) => a * d, 1);
  if (typeof t.data !== 'function') checkLength(t.name, t.shape, count, t.data);
  if (!WRITABLE.has(t.type)) {
    throw new InvalidInputError(`tensor ${t.name}: type ${GgmlType[t.type] ?? t.type} cannot be written (F32, F16, BF16, Q8_0)`);
  }
  if (t.type === GgmlType.Q8_0 && t.shape[0] % Q8_0_BLOCK !== 0) {
    throw new InvalidInputError(`tensor ${t.name}: Q8_0 needs shape[0] (${t.shape[0]}) to be a multiple of ${Q8_0_BLOCK}; use F16`);
  }
  return tensorByteLength(t.type, count)!;
}

function checkLength(name: string, shape: number[], count: number, data: unknown): asserts data is Float32Array {
  if (!(data instanceof Float32Array)) throw new InvalidInputError(`tensor ${name}: data must be a Float32Array`);
  if (data.length !== count) {
    throw new InvalidInputError(`tensor ${name}: shape [${shape}] holds ${count} values but data has ${data.length}`);
  }
}

const pad = (n: number, alignment: number): number => (alignment - (n % alignment)) % alignment;

/** Writes a GGUF v3 file. Metadata order is kept; tensor data is aligned to `alignment`. */
export async function writeGguf(
  path: string,
  metadata: Array<[string, GgufValue]> | Map<string, GgufValue>,
  tensors: WritableTensor[],
  options: WriteGgufOptions = {},
): Promise<void> {
  const alignment = options.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0) {
    throw new InvalidInputError(`alignment ${alignment} must be a power of two`);
  }
  const entries = [...metadata].filter(([key]) => key !== 'general.alignment');
  if (alignment !== GGUF_DEFAULT_ALIGNMENT) entries.push(['general.alignment', { type: GgufValueType.UINT32, value: alignment }]);
  const seenKeys = new Set<string>();
  for (const [key] of entries) {
    if (seenKeys.has(key)) throw new InvalidInputError(`metadata key ${key} appears twice`);
    seenKeys.add(key);
  }
  const seenNames = new Set<string>();
  for (const t of tensors) {
    if (seenNames.has(t.name)) throw new InvalidInputError(`tensor ${t.name} appears twice`);
    seenNames.add(t.name);
  }

  const header = new ByteBuilder();
  header.u32(GGUF_MAGIC);
  header.u32(3);
  header.u64(tensors.length);
  header.u64(entries.length);
  for (const [key, value] of entries) writeKeyValue(header, key, value);

  const sizes = tensors.map(checkTensor);
  let rel = 0;
  tensors.forEach((t, i) => {
    header.string(t.name);
    header.u32(t.shape.length);
    for (const d of t.shape) header.u64(d);
    header.u32(t.type);
    header.u64(rel);
    rel += sizes[i] + pad(sizes[i], alignment);
  });
  header.zeros(pad(header.length, alignment));

  const fh = await open(path, 'w');
  let complete = false;
  try {
    await fh.write(header.bytes());
    const zeros = Buffer.alloc(alignment);
    for (const [i, t] of tensors.entries()) {
      const data = typeof t.data === 'function' ? await t.data() : t.data;
      checkLength(t.name, t.shape, sizesCount(t.shape), data);
      const bytes = encodeTensor(t.type, data);
      if (bytes.length !== sizes[i]) throw new Error(`internal: tensor ${t.name} encoded to ${bytes.length} bytes, expected ${sizes[i]}`);
      await fh.write(bytes);
      const p = pad(bytes.length, alignment);
      if (p) await fh.write(zeros, 0, p);
    }
    complete = true;
  } finally {
    await fh.close();
    if (!complete) await rm(path, { force: true }); // never leave a half-written GGUF behind
  }
}

const sizesCount = (shape: number[]): number => shape.reduce((a, d) => a * d, 1);

/** writeGguf to a temporary file renamed into place: `path` is never left half-written. */
export async function writeGgufAtomically(path: string, metadata: Array<[string, GgufValue]> | Map<string, GgufValue>, tensors: WritableTensor[]): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeGguf(tmp, metadata, tensors);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
