/**
 * A GGUF file as an editable structure (metadata, tensor infos with raw offsets, the data blob),
 * serialized byte by byte without any of the writer's checks, so a fuzzer can produce files the
 * writer would refuse: wrong types, odd shapes, unknown tensor types, bad offsets.
 */
import { readFileSync } from 'node:fs';
import { readGguf } from '../../../src/gguf/reader.js';
import { GgufValueType, type GgufValue } from '../../../src/gguf/types.js';

export interface RawTensorInfo {
  name: string;
  shape: Array<number | bigint>;
  type: number;
  /** Offset relative to the start of the data section. */
  rel: number | bigint;
}

export interface GgufImage {
  magic: number;
  version: number;
  /** Counts written in the header; undefined = the real counts. */
  tensorCount?: number | bigint;
  kvCount?: number | bigint;
  kvs: Array<[string, GgufValue]>;
  tensors: RawTensorInfo[];
  alignment: number;
  data: Buffer;
}

export async function imageFromFile(path: string): Promise<GgufImage> {
  const file = await readGguf(path);
  const bytes = readFileSync(path);
  const dataStart = Math.min(...file.tensors.map((t) => t.offset));
  const alignment = Number(file.metadata.get('general.alignment')?.value ?? 32);
  return {
    magic: bytes.readUInt32LE(0),
    version: file.version,
    kvs: [...file.metadata],
    tensors: file.tensors.map((t) => ({ name: t.name, shape: [...t.shape], type: t.type, rel: t.offset - dataStart })),
    alignment,
    data: bytes.subarray(dataStart),
  };
}

export function cloneImage(image: GgufImage): GgufImage {
  return {
    ...image,
    kvs: image.kvs.map(([key, value]) => [key, value.type === GgufValueType.ARRAY ? { ...value, value: [...value.value] } : { ...value }] as [string, GgufValue]),
    tensors: image.tensors.map((t) => ({ ...t, shape: [...t.shape] })),
  };
}

class Bytes {
  private parts: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  num(size: number, write: (b: Buffer) => void): void {
    const b = Buffer.alloc(size);
    write(b);
    this.push(b);
  }
  u32(v: number): void { this.num(4, (b) => b.writeUInt32LE(v >>> 0)); }
  u64(v: number | bigint): void { this.num(8, (b) => b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)))); }
  string(s: string): void {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  concat(): Buffer { return Buffer.concat(this.parts); }
}

function scalar(out: Bytes, type: GgufValueType, v: unknown): void {
  const n = typeof v === 'bigint' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : (v as number);
  const int = (bits: number) => BigInt.asUintN(bits, typeof n === 'bigint' ? n : BigInt(Math.trunc(Number.isFinite(n) ? n : 0)));
  switch (type) {
    case GgufValueType.UINT8: case GgufValueType.INT8: case GgufValueType.BOOL:
      return out.num(1, (b) => b.writeUInt8(Number(int(8))));
    case GgufValueType.UINT16: case GgufValueType.INT16:
      return out.num(2, (b) => b.writeUInt16LE(Number(int(16))));
    case GgufValueType.UINT32: case GgufValueType.INT32:
      return out.num(4, (b) => b.writeUInt32LE(Number(int(32))));
    case GgufValueType.UINT64: case GgufValueType.INT64:
      return out.num(8, (b) => b.writeBigUInt64LE(int(64)));
    case GgufValueType.FLOAT32: return out.num(4, (b) => b.writeFloatLE(Number(n)));
    case GgufValueType.FLOAT64: return out.num(8, (b) => b.writeDoubleLE(Number(n)));
    case GgufValueType.STRING: return out.string(String(v));
    default: throw new Error(`cannot write value type ${type}`);
  }
}

/** A byte array (a precompiled charsmap: 100k+ items) in one piece; each item wraps modulo 256, as scalar() writes it. */
function byteArray(items: readonly unknown[]): Buffer {
  const bytes = Buffer.alloc(items.length);
  items.forEach((v, i) => { bytes[i] = typeof v === 'bigint' ? Number(BigInt.asUintN(8, v)) : Number(v); });
  return bytes;
}

export function serializeImage(image: GgufImage): Buffer {
  const out = new Bytes();
  out.u32(image.magic);
  out.u32(image.version);
  out.u64(image.tensorCount ?? image.tensors.length);
  out.u64(image.kvCount ?? image.kvs.length);
  for (const [key, value] of image.kvs) {
    out.string(key);
    out.u32(value.type);
    if (value.type === GgufValueType.ARRAY) {
      out.u32(value.itemType);
      out.u64(value.value.length);
      if (value.itemType === GgufValueType.UINT8 || value.itemType === GgufValueType.INT8) out.push(byteArray(value.value));
      else for (const item of value.value) scalar(out, value.itemType, item);
    } else {
      scalar(out, value.type, value.value);
    }
  }
  for (const t of image.tensors) {
    out.string(t.name);
    out.u32(t.shape.length);
    for (const d of t.shape) out.u64(d);
    out.u32(t.type);
    out.u64(t.rel);
  }
  const align = image.alignment > 0 && image.alignment < 1 << 20 ? image.alignment : 32;
  const pad = (align - (out.length % align)) % align;
  out.push(Buffer.alloc(pad));
  out.push(image.data);
  return out.concat();
}
