/**
 * GGUF v2/v3 reader: metadata and tensor infos only (tensor data is read on request).
 * Layout: magic "GGUF", u32 version, u64 tensor count, u64 kv count, kvs, tensor infos,
 * padding to general.alignment, tensor data (offsets relative to the data start).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { BgeGgufError, ModelNotFoundError } from '../errors.js';
import { decodeTensor, tensorByteLength } from './quantize.js';
import { GgmlType, GgufValueType, type GgufFile, type GgufTensorInfo, type GgufValue } from './types.js';

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_DEFAULT_ALIGNMENT = 32;
const CHUNK = 1 << 20;

function badFile(path: string, why: string): BgeGgufError {
  return new BgeGgufError('MODEL_LOAD_FAILED', `${path} is not a readable GGUF file: ${why}. Re-download or re-convert it.`);
}

/** Sequential little-endian reads over a file handle through a refillable buffer. */
class ByteCursor {
  private buf = Buffer.alloc(0);
  private at = 0; // read position inside buf
  private fileAt = 0; // file position of buf[0]
  constructor(private readonly fh: FileHandle, private readonly path: string, private readonly size: number) {}

  get position(): number {
    return this.fileAt + this.at;
  }

  get remaining(): number {
    return this.size - this.position;
  }

  private async need(n: number): Promise<void> {
    if (this.at + n <= this.buf.length) return;
    const start = this.position;
    if (start + n > this.size) throw badFile(this.path, `unexpected end of file at byte ${start}`);
    const len = Math.min(Math.max(n, CHUNK), this.size - start);
    const next = Buffer.alloc(len);
    const { bytesRead } = await this.fh.read(next, 0, len, start);
    if (bytesRead < n) throw badFile(this.path, `short read at byte ${start}`);
    this.buf = next;
    this.at = 0;
    this.fileAt = start;
  }

  async u8(): Promise<number> { await this.need(1); return this.buf.readUInt8(this.at++); }
  async i8(): Promise<number> { await this.need(1); return this.buf.readInt8(this.at++); }
  async u16(): Promise<number> { await this.need(2); const v = this.buf.readUInt16LE(this.at); this.at += 2; return v; }
  async i16(): Promise<number> { await this.need(2); const v = this.buf.readInt16LE(this.at); this.at += 2; return v; }
  async u32(): Promise<number> { await this.need(4); const v = this.buf.readUInt32LE(this.at); this.at += 4; return v; }
  async i32(): Promise<number> { await this.need(4); const v = this.buf.readInt32LE(this.at); this.at += 4; return v; }
  async f32(): Promise<number> { await this.need(4); const v = this.buf.readFloatLE(this.at); this.at += 4; return v; }
  async f64(): Promise<number> { await this.need(8); const v = this.buf.readDoubleLE(this.at); this.at += 8; return v; }
  async u64(): Promise<bigint> { await this.need(8); const v = this.buf.readBigUInt64LE(this.at); this.at += 8; return v; }
  async i64(): Promise<bigint> { await this.need(8); const v = this.buf.readBigInt64LE(this.at); this.at += 8; return v; }

  /** A u64 that must fit a JS number (counts, lengths, offsets). */
  async size64(what: string): Promise<number> {
    const v = await this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw badFile(this.path, `${what} ${v} is too large`);
    return Number(v);
  }

  /** `count` items of `size` bytes, decoded from whole buffered chunks: one await per chunk, not per item. */
  async items<T>(count: number, size: number, read: (buf: Buffer, at: number) => T): Promise<T[]> {
    const out: T[] = new Array(count);
    const perChunk = Math.max(1, Math.floor(CHUNK / size));
    for (let i = 0; i < count; ) {
      const k = Math.min(count - i, perChunk);
      await this.need(k * size);
      for (const end = i + k; i < end; i++, this.at += size) out[i] = read(this.buf, this.at);
    }
    return out;
  }

  async string(): Promise<string> {
    const len = await this.size64('string length');
    if (len > this.remaining) throw badFile(this.path, `string length ${len} runs past the end`);
    await this.need(len);
    const s = this.buf.toString('utf8', this.at, this.at + len);
    this.at += len;
    return s;
  }
}

/** 64-bit integers come back as numbers when exact, as bigint otherwise. */
function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

async function readScalar(c: ByteCursor, type: GgufValueType, path: string): Promise<string | number | bigint | boolean> {
  switch (type) {
    case GgufValueType.UINT8: return c.u8();
    case GgufValueType.INT8: return c.i8();
    case GgufValueType.UINT16: return c.u16();
    case GgufValueType.INT16: return c.i16();
    case GgufValueType.UINT32: return c.u32();
    case GgufValueType.INT32: return c.i32();
    case GgufValueType.FLOAT32: return c.f32();
    case GgufValueType.BOOL: return (await c.u8()) !== 0;
    case GgufValueType.STRING: return c.string();
    case GgufValueType.UINT64: return narrow(await c.u64());
    case GgufValueType.INT64: return narrow(await c.i64());
    case GgufValueType.FLOAT64: return c.f64();
    default: throw badFile(path, `unknown metadata value type ${type}`);
  }
}

/** Fixed-size item types: [bytes, decoder], so a 250k-item scores array or a charsmap reads in a few chunks. */
const FIXED_ITEMS: Partial<Record<GgufValueType, [number, (b: Buffer, at: number) => number | bigint | boolean]>> = {
  [GgufValueType.UINT8]: [1, (b, at) => b.readUInt8(at)],
  [GgufValueType.INT8]: [1, (b, at) => b.readInt8(at)],
  [GgufValueType.UINT16]: [2, (b, at) => b.readUInt16LE(at)],
  [GgufValueType.INT16]: [2, (b, at) => b.readInt16LE(at)],
  [GgufValueType.UINT32]: [4, (b, at) => b.readUInt32LE(at)],
  [GgufValueType.INT32]: [4, (b, at) => b.readInt32LE(at)],
  [GgufValueType.FLOAT32]: [4, (b, at) => b.readFloatLE(at)],
  [GgufValueType.BOOL]: [1, (b, at) => b.readUInt8(at) !== 0],
  [GgufValueType.UINT64]: [8, (b, at) => narrow(b.readBigUInt64LE(at))],
  [GgufValueType.INT64]: [8, (b, at) => narrow(b.readBigInt64LE(at))],
  [GgufValueType.FLOAT64]: [8, (b, at) => b.readDoubleLE(at)],
};

async function readValue(c: ByteCursor, path: string, key: string): Promise<GgufValue> {
  const type = (await c.u32()) as GgufValueType;
  if (type !== GgufValueType.ARRAY) {
    return { type, value: await readScalar(c, type, path) } as GgufValue;
  }
  const itemType = (await c.u32()) as GgufValueType;
  if (itemType === GgufValueType.ARRAY) throw badFile(path, `nested arrays (key ${key}) are not supported`);
  const count = await c.size64('array length');
  if (count > c.remaining) throw badFile(path, `array ${key} claims ${count} items`);
  const fixed = FIXED_ITEMS[itemType];
  if (fixed) return { type: GgufValueType.ARRAY, itemType, value: await c.items(count, fixed[0], fixed[1]) } as GgufValue;
  const value: Array<string | number | bigint | boolean> = new Array(count);
  for (let i = 0; i < count; i++) value[i] = await readScalar(c, itemType, path);
  return { type: GgufValueType.ARRAY, itemType, value };
}

async function openGguf(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (cause) {
    throw new ModelNotFoundError(`cannot open GGUF file ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** Reads the header, metadata and tensor infos of a GGUF file. */
export async function readGguf(path: string): Promise<GgufFile> {
  const fh = await openGguf(path);
  try {
    const size = (await fh.stat()).size;
    const c = new ByteCursor(fh, path, size);
    if (size < 24 || (await c.u32()) !== GGUF_MAGIC) throw badFile(path, 'missing "GGUF" magic');
    const version = await c.u32();
    if (version < 2 || version > 3) throw badFile(path, `GGUF version ${version} is not supported (2 or 3 expected)`);
    const tensorCount = await c.size64('tensor count');
    const kvCount = await c.size64('metadata count');

    const metadata = new Map<string, GgufValue>();
    for (let i = 0; i < kvCount; i++) {
      const key = await c.string();
      metadata.set(key, await readValue(c, path, key));
    }

    const raw: Array<{ name: string; shape: number[]; type: GgmlType; rel: number }> = [];
    for (let i = 0; i < tensorCount; i++) {
      const name = await c.string();
      const nDims = await c.u32();
      if (nDims > 4) throw badFile(path, `tensor ${name} has ${nDims} dimensions`);
      const shape: number[] = [];
      for (let d = 0; d < nDims; d++) shape.push(await c.size64(`dimension of ${name}`));
      const type = (await c.u32()) as GgmlType;
      raw.push({ name, shape, type, rel: await c.size64(`offset of ${name}`) });
    }

    const alignValue = metadata.get('general.alignment');
    const alignment = alignValue && typeof alignValue.value === 'number' ? alignValue.value : GGUF_DEFAULT_ALIGNMENT;
    if (!Number.isInteger(alignment) || alignment <= 0) throw badFile(path, `general.alignment ${alignment} is invalid`);
    const dataStart = Math.ceil(c.position / alignment) * alignment;

    const tensors: GgufTensorInfo[] = raw.map(({ name, shape, type, rel }) => {
      const count = shape.reduce((a, b) => a * b, 1);
      const byteLength = tensorByteLength(type, count) ?? -1; // -1: a type we cannot size
      const offset = dataStart + rel;
      if (byteLength >= 0 && offset + byteLength > size) throw badFile(path, `tensor ${name} runs past the end of the file`);
      return { name, shape, type, offset, byteLength };
    });
    return { version, metadata, tensors };
  } finally {
    await fh.close();
  }
}

/** Reads one tensor's data and converts it to float32 (F32, F16, BF16, Q8_0). */
export async function readTensorF32(path: string, info: GgufTensorInfo): Promise<Float32Array> {
  const count = info.shape.reduce((a, b) => a * b, 1);
  if (![GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0].includes(info.type)) {
    throw new BgeGgufError(
      'UNSUPPORTED_MODEL',
      `tensor ${info.name} is ${GgmlType[info.type] ?? `type ${info.type}`}; only F32, F16, BF16 and Q8_0 can be read as float32`,
    );
  }
  const fh = await openGguf(path);
  try {
    const bytes = Buffer.alloc(info.byteLength);
    const { bytesRead } = await fh.read(bytes, 0, info.byteLength, info.offset);
    if (bytesRead !== info.byteLength) throw badFile(path, `short read of tensor ${info.name}`);
    return decodeTensor(info.type, bytes, count);
  } finally {
    await fh.close();
  }
}

/** Convenience lookups over metadata. */
export function metaValue(file: GgufFile, key: string): GgufValue['value'] | undefined {
  return file.metadata.get(key)?.value;
}
