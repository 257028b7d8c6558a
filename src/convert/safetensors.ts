/**
 * Reader for Hugging Face safetensors files: an 8-byte little-endian header length, a JSON header
 * mapping tensor names to {dtype, shape, data_offsets}, then the raw little-endian tensor bytes.
 */
import { open, stat } from 'node:fs/promises';
import { BgeGgufError } from '../errors.js';
import { bf16BitsToF32, f16BitsToF32 } from '../gguf/quantize.js';

export type SafetensorsDtype =
  | 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL' | 'F8_E4M3' | 'F8_E5M2' | 'U16' | 'U32' | 'U64';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1, U16: 2, U32: 4, U64: 8,
};

/** dtypes the converter can turn into float32 (what convert_hf_to_gguf.py accepts for BERT weights). */
export const FLOAT_DTYPES: ReadonlySet<string> = new Set(['F64', 'F32', 'F16', 'BF16']);

export interface SafetensorsTensor {
  name: string;
  file: string;
  dtype: SafetensorsDtype;
  /** PyTorch order: shape[0] is the slowest-varying dimension. */
  shape: number[];
  /** Absolute byte range in `file`. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  file: string;
  metadata: Record<string, string>;
  tensors: SafetensorsTensor[];
}

/** Header lengths above this are not real checkpoints (the format caps it at 100 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function corrupt(file: string, why: string): BgeGgufError {
  return new BgeGgufError('MODEL_LOAD_FAILED', `${file} is not a valid safetensors file: ${why}. Re-download the checkpoint.`);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const { size } = await stat(file);
  if (size < 8) throw corrupt(file, `only ${size} bytes`);
  const fh = await open(file, 'r');
  let json: unknown;
  let dataStart: number;
  try {
    const lenBuf = Buffer.alloc(8);
    await fh.read(lenBuf, 0, 8, 0);
    const headerLen = lenBuf.readBigUInt64LE(0);
    if (headerLen > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) throw corrupt(file, `header length ${headerLen} does not fit the file`);
    const n = Number(headerLen);
    const headerBuf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(headerBuf, 0, n, 8);
    if (bytesRead !== n) throw corrupt(file, 'short read of the header');
    try {
      json = JSON.parse(headerBuf.toString('utf8'));
    } catch {
      throw corrupt(file, 'the header is not JSON');
    }
    dataStart = 8 + n;
  } finally {
    await fh.close();
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw corrupt(file, 'the header is not a JSON object');

  const metadata: Record<string, string> = {};
  const tensors: SafetensorsTensor[] = [];
  const dataSize = size - dataStart;
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry && typeof entry === 'object') {
        for (const [k, v] of Object.entries(entry)) if (typeof v === 'string') metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (!e || typeof e !== 'object') throw corrupt(file, `entry ${name} is not an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES)) throw corrupt(file, `tensor ${name} has unknown dtype ${String(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) throw corrupt(file, `tensor ${name} has a bad shape`);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      throw corrupt(file, `tensor ${name} has bad data_offsets`);
    }
    const dtype = e.dtype as SafetensorsDtype;
    const shape = e.shape as number[];
    const [b, en] = offsets as [number, number];
    const count = shape.reduce((a, d) => a * d, 1);
    if (en - b !== count * DTYPE_BYTES[dtype]) throw corrupt(file, `tensor ${name}: ${en - b} bytes for shape [${shape}] ${dtype}`);
    if (en > dataSize) throw corrupt(file, `tensor ${name} runs past the end of the file`);
    tensors.push({ name, file, dtype, shape, begin: dataStart + b, end: dataStart + en });
  }
  return { file, metadata, tensors };
}

/** Reads one tensor and widens it to float32 (F64/F32/F16/BF16 only). */
export async function readTensorAsF32(t: SafetensorsTensor): Promise<Float32Array> {
  if (!FLOAT_DTYPES.has(t.dtype)) {
    throw new BgeGgufError('UNSUPPORTED_MODEL', `tensor ${t.name} in ${t.file} is ${t.dtype}; only F32, F16, BF16 and F64 weights can be converted`);
  }
  const bytes = Buffer.alloc(t.end - t.begin);
  const fh = await open(t.file, 'r');
  try {
    const { bytesRead } = await fh.read(bytes, 0, bytes.length, t.begin);
    if (bytesRead !== bytes.length) throw corrupt(t.file, `short read of tensor ${t.name}`);
  } finally {
    await fh.close();
  }
  const count = bytes.length / DTYPE_BYTES[t.dtype];
  const out = new Float32Array(count);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < count; i++) out[i] = bytes.readFloatLE(i * 4);
      break;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = bytes.readDoubleLE(i * 8);
      break;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = f16BitsToF32(bytes.readUInt16LE(i * 2));
      break;
    case 'BF16':
      for (let i = 0; i < count; i++) out[i] = bf16BitsToF32(bytes.readUInt16LE(i * 2));
      break;
  }
  return out;
}
