/**
 * torch.save files (zip: <archive>/data.pkl + <archive>/data/<key> raw storages) → named float32
 * tensors, without Python: BGE-M3's colbert_linear.pt and sparse_linear.pt, and pytorch_model.bin
 * checkpoints (tensors read one at a time).
 */
import { InvalidInputError } from '../errors.js';
import { bf16BitsToF32, f16BitsToF32 } from '../gguf/quantize.js';
import { unpickle, type StorageRef, type TensorRef } from './pickle.js';
import { openZip, type ZipArchive } from './zip.js';

export interface TorchTensor {
  shape: number[];
  data: Float32Array;
}

/** A tensor of an open torch file: its shape now, its values when read. */
export interface TorchTensorSource {
  name: string;
  shape: number[];
  read(): Float32Array;
}

const STORAGE_BYTES: Record<string, number> = { 'torch.FloatStorage': 4, 'torch.HalfStorage': 2, 'torch.BFloat16Storage': 2, 'torch.DoubleStorage': 8 };

/** Every tensor of the state dict in `path`, by name, as float32 (row-major, contiguous). */
export function readTorchStateDict(path: string): Map<string, TorchTensor> {
  const { tensors, close } = openTorchStateDict(path);
  try {
    return new Map(tensors.map((t) => [t.name, { shape: t.shape, data: t.read() }]));
  } finally {
    close();
  }
}

/** The state dict's tensors, read on demand; call close() when done. */
export function openTorchStateDict(path: string): { tensors: TorchTensorSource[]; close: () => void } {
  const zip = openZip(path);
  try {
    const pickleName = zip.names().find((name) => name.endsWith('/data.pkl') || name === 'data.pkl');
    if (!pickleName) throw new InvalidInputError(`${path} holds no data.pkl; only zip-format torch.save files (torch >= 1.6) are read`);
    const prefix = pickleName.slice(0, pickleName.length - 'data.pkl'.length);
    if (zip.has(`${prefix}byteorder`) && new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim() !== 'little') {
      throw new InvalidInputError(`${path}: big-endian storages are not supported`);
    }
    const root = unpickle(zip.read(pickleName), path);
    if (!(root instanceof Map)) throw new InvalidInputError(`${path} does not hold a state dict (a dict of tensors)`);
    const tensors: TorchTensorSource[] = [];
    for (const [key, value] of root) {
      const name = String(key);
      if ((value as TensorRef)?.kind !== 'tensor') throw new InvalidInputError(`${path}: ${name} is not a tensor`);
      const tensor = value as TensorRef;
      tensors.push({ name, shape: tensor.shape, read: () => gather(storageValues(zip, `${prefix}data/${tensor.storage.key}`, tensor.storage, path), tensor, `${path}: ${name}`) });
    }
    return { tensors, close: () => zip.close() };
  } catch (error) {
    zip.close();
    throw error;
  }
}

function storageValues(zip: ZipArchive, entry: string, ref: StorageRef, path: string): Float32Array {
  const size = STORAGE_BYTES[ref.type];
  if (!size) throw new InvalidInputError(`${path}: ${ref.type} tensors are not supported (float32, float16, bfloat16, float64 are)`);
  if (!zip.has(entry)) throw new InvalidInputError(`${path}: the storage ${entry} is missing`);
  const bytes = zip.read(entry);
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
function gather(values: Float32Array, t: TensorRef, what: string): Float32Array {
  const count = t.shape.reduce((a, b) => a * b, 1);
  const contiguous = t.stride.every((s, d) => s === t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
  if (contiguous && t.offset + count <= values.length) return values.slice(t.offset, t.offset + count);
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
