/**
 * torch.save files (zip: <archive>/data.pkl + <archive>/data/<key> raw storages) → named float32
 * tensors, without Python. Reads state dicts such as BGE-M3's colbert_linear.pt and sparse_linear.pt.
 */
import { readFileSync } from 'node:fs';
import { InvalidInputError } from '../errors.js';
import { bf16BitsToF32, f16BitsToF32 } from '../gguf/quantize.js';
import { unpickle, type StorageRef, type TensorRef } from './pickle.js';
import { readZip } from './zip.js';

export interface TorchTensor {
  shape: number[];
  data: Float32Array;
}

const STORAGE_BYTES: Record<string, number> = { 'torch.FloatStorage': 4, 'torch.HalfStorage': 2, 'torch.BFloat16Storage': 2, 'torch.DoubleStorage': 8 };

/** Every tensor of the state dict in `path`, by name, as float32 (row-major, contiguous). */
export function readTorchStateDict(path: string): Map<string, TorchTensor> {
  const entries = readZip(readFileSync(path), path);
  const pickleName = [...entries.keys()].find((name) => name.endsWith('/data.pkl') || name === 'data.pkl');
  if (!pickleName) throw new InvalidInputError(`${path} holds no data.pkl; only zip-format torch.save files (torch >= 1.6) are read`);
  const prefix = pickleName.slice(0, pickleName.length - 'data.pkl'.length);
  const byteOrder = entries.get(`${prefix}byteorder`);
  if (byteOrder && new TextDecoder().decode(byteOrder).trim() !== 'little') throw new InvalidInputError(`${path}: big-endian storages are not supported`);
  const root = unpickle(entries.get(pickleName)!, path);
  if (!(root instanceof Map)) throw new InvalidInputError(`${path} does not hold a state dict (a dict of tensors)`);
  const out = new Map<string, TorchTensor>();
  for (const [name, value] of root) {
    if ((value as TensorRef)?.kind !== 'tensor') throw new InvalidInputError(`${path}: ${String(name)} is not a tensor`);
    const tensor = value as TensorRef;
    const storage = entries.get(`${prefix}data/${tensor.storage.key}`);
    if (!storage) throw new InvalidInputError(`${path}: the storage of ${String(name)} (data/${tensor.storage.key}) is missing`);
    out.set(String(name), { shape: tensor.shape, data: gather(storageValues(storage, tensor.storage, path), tensor, `${path}: ${String(name)}`) });
  }
  return out;
}

function storageValues(bytes: Uint8Array, ref: StorageRef, path: string): Float64Array | Float32Array {
  const size = STORAGE_BYTES[ref.type];
  if (!size) throw new InvalidInputError(`${path}: ${ref.type} tensors are not supported (float32, float16, bfloat16, float64 are)`);
  const count = Math.floor(bytes.length / size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    if (size === 4) values[i] = view.getFloat32(i * 4, true);
    else if (size === 8) values[i] = view.getFloat64(i * 8, true);
    else if (ref.type === 'torch.HalfStorage') values[i] = f16BitsToF32(view.getUint16(i * 2, true));
    else values[i] = bf16BitsToF32(view.getUint16(i * 2, true));
  }
  return values;
}

/** The tensor's elements in row-major order, following its strides and storage offset. */
function gather(values: Float32Array | Float64Array, t: TensorRef, what: string): Float32Array {
  const count = t.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  const index = new Array<number>(t.shape.length).fill(0);
  for (let k = 0; k < count; k++) {
    let at = t.offset;
    for (let d = 0; d < index.length; d++) at += index[d] * t.stride[d];
    if (at < 0 || at >= values.length) throw new InvalidInputError(`${what} reaches outside its storage`);
    out[k] = values[at];
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < t.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}
