/**
 * A pickle reader for the subset torch.save writes for a state dict (protocol 2, sometimes 4):
 * dicts and OrderedDicts of tensors rebuilt by torch._utils._rebuild_tensor_v2 over persistent
 * storages. It never runs code: only the globals in `reducers` can be called, anything else is an error.
 */
import { InvalidInputError } from '../errors.js';

/** A global (module.name) named by the pickle; only known ones are ever "called". */
export class PickleGlobal {
  constructor(readonly name: string) {}
}

/** What BINPERSID hands back for a torch storage: ('storage', <type>, key, location, numel). */
export interface StorageRef {
  kind: 'storage';
  type: string; // e.g. torch.FloatStorage
  key: string; // the archive's data/<key> entry
  numel: number;
}

export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

type Reducer = (args: unknown[]) => unknown;

const reducers: Record<string, Reducer> = {
  'collections.OrderedDict': () => new Map(),
  'torch._utils._rebuild_tensor_v2': ([storage, offset, shape, stride]) => tensorRef(storage, offset, shape, stride),
  'torch._utils._rebuild_tensor': ([storage, offset, shape, stride]) => tensorRef(storage, offset, shape, stride),
  'torch._utils._rebuild_parameter': ([tensor]) => tensor,
  'torch._utils._rebuild_parameter_with_state': ([tensor]) => tensor,
};

function tensorRef(storage: unknown, offset: unknown, shape: unknown, stride: unknown): TensorRef {
  const ints = (v: unknown) => Array.isArray(v) && v.every((x) => Number.isInteger(x));
  if ((storage as StorageRef)?.kind !== 'storage' || !Number.isInteger(offset) || !ints(shape) || !ints(stride)) {
    throw new InvalidInputError('torch file: a tensor with an unexpected layout');
  }
  return { kind: 'tensor', storage: storage as StorageRef, offset: offset as number, shape: shape as number[], stride: stride as number[] };
}

function persistentLoad(pid: unknown): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof PickleGlobal)) {
    throw new InvalidInputError('torch file: unknown persistent reference (only tensor storages are read)');
  }
  return { kind: 'storage', type: pid[1].name, key: String(pid[2]), numel: Number(pid[4]) };
}

const MARK = Symbol('mark');

/** Unpickles `data`; dicts come back as Maps, tuples and lists as arrays, tensors as TensorRef. */
export function unpickle(data: Uint8Array, what: string): unknown {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const text = new TextDecoder();
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let p = 0;
  const fail = (why: string): never => {
    throw new InvalidInputError(`${what}: cannot read this pickle (${why} at byte ${p}); only torch.save state dicts are supported`);
  };
  const need = (n: number) => {
    if (p + n > data.length) fail('unexpected end');
  };
  const u8 = () => (need(1), data[p++]);
  const u16 = () => (need(2), (p += 2), view.getUint16(p - 2, true));
  const u32 = () => (need(4), (p += 4), view.getUint32(p - 4, true));
  const i32 = () => (need(4), (p += 4), view.getInt32(p - 4, true));
  const bytes = (n: number) => (need(n), (p += n), data.subarray(p - n, p));
  const line = () => {
    const end = data.indexOf(0x0a, p);
    if (end < 0) fail('unterminated line');
    const s = text.decode(data.subarray(p, end));
    p = end + 1;
    return s;
  };
  const popMark = (): unknown[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) fail('no mark');
    const items = stack.splice(at);
    items.shift();
    return items;
  };
  const top = () => (stack.length === 0 ? fail('empty stack') : stack[stack.length - 1]);
  const setItems = (target: unknown, items: unknown[]) => {
    if (!(target instanceof Map)) fail('setitem on a non-dict');
    for (let i = 0; i + 1 < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const little = (n: number) => {
    let v = 0n;
    const b = bytes(n);
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return Number(v);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: bytes(8); break; // FRAME
      case 0x2e: return stack.pop(); // STOP
      case 0x28: stack.push(MARK); break;
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break;
      case 0x89: stack.push(false); break;
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x8a: stack.push(little(u8())); break; // LONG1
      case 0x47: need(8); stack.push(view.getFloat64(p, false)); p += 8; break; // BINFLOAT
      case 0x58: stack.push(text.decode(bytes(u32()))); break; // BINUNICODE
      case 0x8c: stack.push(text.decode(bytes(u8()))); break; // SHORT_BINUNICODE
      case 0x8d: { const n = u32(); u32(); stack.push(text.decode(bytes(n))); break; } // BINUNICODE8
      case 0x54: stack.push(text.decode(bytes(i32()))); break; // BINSTRING
      case 0x55: stack.push(text.decode(bytes(u8()))); break; // SHORT_BINSTRING
      case 0x43: stack.push(bytes(u8())); break; // SHORT_BINBYTES
      case 0x42: stack.push(bytes(u32())); break; // BINBYTES
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x85: stack.push([stack.pop()]); break; // TUPLE1
      case 0x86: { const b = stack.pop(); const a = stack.pop(); stack.push([a, b]); break; }
      case 0x87: { const c = stack.pop(); const b = stack.pop(); const a = stack.pop(); stack.push([a, b, c]); break; }
      case 0x61: { const v = stack.pop(); (top() as unknown[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); (top() as unknown[]).push(...items); break; } // APPENDS
      case 0x73: { const v = stack.pop(); const k = stack.pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x64: { const items = popMark(); const m = new Map(); setItems(m, items); stack.push(m); break; } // DICT
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: { const k = u8(); if (!memo.has(k)) fail('unknown memo'); stack.push(memo.get(k)); break; } // BINGET
      case 0x6a: { const k = u32(); if (!memo.has(k)) fail('unknown memo'); stack.push(memo.get(k)); break; } // LONG_BINGET
      case 0x63: { const module = line(); stack.push(new PickleGlobal(`${module}.${line()}`)); break; } // GLOBAL
      case 0x93: { const name = stack.pop(); const module = stack.pop(); stack.push(new PickleGlobal(`${String(module)}.${String(name)}`)); break; }
      case 0x51: stack.push(persistentLoad(stack.pop())); break; // BINPERSID
      case 0x52: { // REDUCE
        const args = stack.pop();
        const fn = stack.pop();
        const reducer = fn instanceof PickleGlobal ? reducers[fn.name] : undefined;
        if (!reducer || !Array.isArray(args)) fail(`call of ${fn instanceof PickleGlobal ? fn.name : 'a non-global'}`);
        stack.push(reducer!(args as unknown[]));
        break;
      }
      case 0x62: stack.pop(); break; // BUILD: an OrderedDict's _metadata; not needed
      default: fail(`opcode 0x${op.toString(16)}`);
    }
  }
}
