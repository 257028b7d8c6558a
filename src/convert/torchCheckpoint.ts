/**
 * Reads PyTorch checkpoints (pytorch_model.bin, colbert_linear.pt: torch.save's zip format) without
 * Python: the zip's central directory, then archive/data.pkl through a small pickle machine that
 * knows only what a state dict holds (OrderedDict, tensors rebuilt by torch._utils._rebuild_tensor_v2
 * over storages named by persistent ids). Each tensor becomes a byte range of the .bin file in the
 * shape of a SafetensorsTensor, so readTensorAsF32 reads it. Only uncompressed entries and contiguous
 * tensors are supported (what torch.save writes for state dicts).
 */
import { open, stat } from 'node:fs/promises';
import { BgeGgufError } from '../errors.js';
import type { SafetensorsDtype, SafetensorsTensor } from './safetensors.js';

interface ZipEntry {
  name: string;
  method: number;
  size: number;
  /** Absolute offset of the entry's data in the file. */
  dataStart: number;
}

function corrupt(file: string, why: string): BgeGgufError {
  return new BgeGgufError('MODEL_LOAD_FAILED', `${file} is not a readable PyTorch checkpoint: ${why}. Re-download it, or save it as safetensors.`);
}

async function readAt(fh: Awaited<ReturnType<typeof open>>, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** The zip's entries from its central directory (zip64 sizes and offsets included). */
async function zipEntries(file: string, fh: Awaited<ReturnType<typeof open>>, size: number): Promise<ZipEntry[]> {
  const tailLength = Math.min(size, 65557);
  const tail = await readAt(fh, size - tailLength, tailLength);
  const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw corrupt(file, 'no zip end-of-central-directory record (an old, non-zip torch.save file?)');
  let count = tail.readUInt16LE(eocd + 10);
  let dirSize = tail.readUInt32LE(eocd + 12);
  let dirOffset = tail.readUInt32LE(eocd + 16);
  const locator = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x07]), eocd);
  if (locator >= 0) {
    const z64 = await readAt(fh, Number(tail.readBigUInt64LE(locator + 8)), 56);
    if (z64.readUInt32LE(0) === 0x06064b50) {
      count = Number(z64.readBigUInt64LE(32));
      dirSize = Number(z64.readBigUInt64LE(40));
      dirOffset = Number(z64.readBigUInt64LE(48));
    }
  }
  const dir = await readAt(fh, dirOffset, dirSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (dir.readUInt32LE(p) !== 0x02014b50) throw corrupt(file, 'bad zip central directory');
    const method = dir.readUInt16LE(p + 10);
    let compressedSize = dir.readUInt32LE(p + 20);
    let uncompressedSize = dir.readUInt32LE(p + 24);
    const nameLength = dir.readUInt16LE(p + 28);
    const extraLength = dir.readUInt16LE(p + 30);
    const commentLength = dir.readUInt16LE(p + 32);
    let localOffset = dir.readUInt32LE(p + 42);
    const name = dir.subarray(p + 46, p + 46 + nameLength).toString('utf8');
    // zip64 extra field: the 0xffffffff fields, in order uncompressed, compressed, offset
    for (let e = p + 46 + nameLength; e < p + 46 + nameLength + extraLength; ) {
      const id = dir.readUInt16LE(e);
      const len = dir.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (uncompressedSize === 0xffffffff) (uncompressedSize = Number(dir.readBigUInt64LE(q))), (q += 8);
        if (compressedSize === 0xffffffff) (compressedSize = Number(dir.readBigUInt64LE(q))), (q += 8);
        if (localOffset === 0xffffffff) localOffset = Number(dir.readBigUInt64LE(q));
      }
      e += 4 + len;
    }
    const local = await readAt(fh, localOffset, 30);
    if (local.readUInt32LE(0) !== 0x04034b50) throw corrupt(file, `bad zip local header for ${name}`);
    const dataStart = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
    entries.push({ name, method, size: method === 0 ? uncompressedSize : compressedSize, dataStart });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

// --- a pickle machine for state dicts ---
interface Global {
  kind: 'global';
  module: string;
  name: string;
}
interface StorageRef {
  kind: 'storage';
  dtype: SafetensorsDtype;
  key: string;
}
interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  size: number[];
  stride: number[];
}
type Value = null | boolean | number | string | Buffer | Value[] | Map<unknown, Value> | Global | StorageRef | TensorRef | { kind: 'object' };

const STORAGE_DTYPES: Record<string, SafetensorsDtype> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

const MARK = Symbol('mark');

function unpickle(data: Buffer, where: string): Value {
  const stack: Array<Value | typeof MARK> = [];
  const memo = new Map<number, Value>();
  let p = 0;
  const fail = (why: string): never => {
    throw corrupt(where, why);
  };
  const pop = (): Value => {
    const v = stack.pop();
    if (v === undefined || v === MARK) fail('pickle stack underflow');
    return v as Value;
  };
  const popMark = (): Value[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('pickle MARK missing');
    const items = stack.splice(i + 1) as Value[];
    stack.pop();
    return items;
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, p);
    const s = data.subarray(p, end).toString('utf8');
    p = end + 1;
    return s;
  };
  const call = (fn: Value, args: Value): Value => {
    const g = fn as Global;
    const a = (Array.isArray(args) ? args : []) as Value[];
    if (g?.kind !== 'global') return { kind: 'object' };
    if (g.module === 'collections' && g.name === 'OrderedDict') return new Map();
    if (g.module === 'torch._utils' && g.name === '_rebuild_tensor_v2') {
      const storage = a[0] as StorageRef;
      if (storage?.kind !== 'storage') fail('a tensor without a storage');
      return { kind: 'tensor', storage, offset: a[1] as number, size: (a[2] as number[]) ?? [], stride: (a[3] as number[]) ?? [] };
    }
    if (g.module === 'torch._utils' && g.name === '_rebuild_parameter') return a[0];
    return { kind: 'object' };
  };
  for (;;) {
    if (p >= data.length) fail('pickle ends without STOP');
    const op = data[p++];
    switch (op) {
      case 0x80: p++; break; // PROTO
      case 0x95: p += 8; break; // FRAME
      case 0x2e: return pop(); // STOP
      case 0x28: stack.push(MARK); break;
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break;
      case 0x86: { const b = pop(); stack.push([pop(), b]); break; }
      case 0x87: { const c = pop(); const b = pop(); stack.push([pop(), b, c]); break; }
      case 0x4e: stack.push(null); break;
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4b: stack.push(data[p]); p += 1; break; // BININT1
      case 0x4d: stack.push(data.readUInt16LE(p)); p += 2; break; // BININT2
      case 0x4a: stack.push(data.readInt32LE(p)); p += 4; break; // BININT
      case 0x8a: { // LONG1
        const n = data[p++];
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[p + i]);
        if (n > 0 && data[p + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        p += n;
        stack.push(Number(v));
        break;
      }
      case 0x47: stack.push(data.readDoubleBE(p)); p += 8; break; // BINFLOAT
      case 0x58: { const n = data.readUInt32LE(p); p += 4; stack.push(data.subarray(p, p + n).toString('utf8')); p += n; break; } // BINUNICODE
      case 0x8c: { const n = data[p++]; stack.push(data.subarray(p, p + n).toString('utf8')); p += n; break; } // SHORT_BINUNICODE
      case 0x55: { const n = data[p++]; stack.push(data.subarray(p, p + n).toString('latin1')); p += n; break; } // SHORT_BINSTRING
      case 0x54: { const n = data.readUInt32LE(p); p += 4; stack.push(data.subarray(p, p + n).toString('latin1')); p += n; break; } // BINSTRING
      case 0x43: { const n = data[p++]; stack.push(data.subarray(p, p + n)); p += n; break; } // SHORT_BINBYTES
      case 0x42: { const n = data.readUInt32LE(p); p += 4; stack.push(data.subarray(p, p + n)); p += n; break; } // BINBYTES
      case 0x63: { const module = line(); const name = line(); stack.push({ kind: 'global', module, name }); break; } // GLOBAL
      case 0x93: { const name = pop() as string; const module = pop() as string; stack.push({ kind: 'global', module, name }); break; } // STACK_GLOBAL
      case 0x71: memo.set(data[p++], stack[stack.length - 1] as Value); break; // BINPUT
      case 0x72: memo.set(data.readUInt32LE(p), stack[stack.length - 1] as Value); p += 4; break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, stack[stack.length - 1] as Value); break; // MEMOIZE
      case 0x68: stack.push(memo.get(data[p++]) ?? null); break; // BINGET
      case 0x6a: stack.push(memo.get(data.readUInt32LE(p)) ?? null); p += 4; break; // LONG_BINGET
      case 0x51: { // BINPERSID: ('storage', storage_type, key, location, numel)
        const pid = pop() as Value[];
        const type = pid?.[1] as Global;
        const dtype = STORAGE_DTYPES[type?.name];
        if (!Array.isArray(pid) || pid[0] !== 'storage' || !dtype) fail(`unsupported storage ${JSON.stringify(type?.name)}`);
        stack.push({ kind: 'storage', dtype, key: String(pid[2]) });
        break;
      }
      case 0x52: { const args = pop(); stack.push(call(pop(), args)); break; } // REDUCE
      case 0x81: { const args = pop(); stack.push(call(pop(), args)); break; } // NEWOBJ
      case 0x62: pop(); break; // BUILD: state dropped (OrderedDict metadata)
      case 0x73: { const v = pop(); const k = pop(); (stack[stack.length - 1] as Map<unknown, Value>).set(k, v); break; } // SETITEM
      case 0x75: { // SETITEMS
        const items = popMark();
        const target = stack[stack.length - 1];
        if (target instanceof Map) for (let i = 0; i + 1 < items.length; i += 2) target.set(items[i], items[i + 1]);
        break;
      }
      case 0x61: { const v = pop(); (stack[stack.length - 1] as Value[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); const target = stack[stack.length - 1]; if (Array.isArray(target)) target.push(...items); break; } // APPENDS
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)}`);
    }
  }
}

const DTYPE_BYTES: Partial<Record<SafetensorsDtype, number>> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** The tensors of a torch.save'd state dict, as byte ranges of the file. */
export async function readTorchStateDict(file: string): Promise<SafetensorsTensor[]> {
  const { size } = await stat(file);
  const fh = await open(file, 'r');
  try {
    const entries = await zipEntries(file, fh, size);
    const pkl = entries.find((e) => e.name.endsWith('/data.pkl') || e.name === 'data.pkl');
    if (!pkl) throw corrupt(file, 'no data.pkl in the archive');
    if (pkl.method !== 0) throw corrupt(file, 'compressed data.pkl');
    const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
    const root = unpickle(await readAt(fh, pkl.dataStart, pkl.size), file);
    const dict = root instanceof Map ? root : null;
    if (!dict) throw corrupt(file, 'the pickle is not a state dict');
    const byName = new Map(entries.map((e) => [e.name, e]));
    const tensors: SafetensorsTensor[] = [];
    for (const [name, value] of dict) {
      const t = value as TensorRef;
      if (t?.kind !== 'tensor') continue;
      const entry = byName.get(`${prefix}data/${t.storage.key}`);
      if (!entry || entry.method !== 0) throw corrupt(file, `storage ${t.storage.key} of ${String(name)} is missing or compressed`);
      let expected = 1;
      for (let d = t.size.length - 1; d >= 0; d--) {
        if (t.size[d] !== 1 && t.stride[d] !== expected) {
          throw new BgeGgufError('UNSUPPORTED_MODEL', `${file}: tensor ${String(name)} is not contiguous; save the state dict with contiguous tensors or as safetensors`);
        }
        expected *= t.size[d];
      }
      const width = DTYPE_BYTES[t.storage.dtype] ?? 1;
      const begin = entry.dataStart + t.offset * width;
      tensors.push({ name: String(name), file, dtype: t.storage.dtype, shape: t.size, begin, end: begin + expected * width });
    }
    return tensors;
  } finally {
    await fh.close();
  }
}
