/**
 * Writes state dicts in torch.save's zip format (written here from the format's description, not
 * from src/convert): an uncompressed zip with archive/data.pkl (pickle protocol 2: an OrderedDict of
 * torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks), each storage a
 * persistent id ('storage', torch.FloatStorage, key, 'cpu', numel)), archive/data/<key> with the
 * little-endian values (64-byte aligned, as torch aligns them), archive/byteorder and archive/version.
 */
import { writeFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';

export interface TorchTensor {
  dtype: 'F32' | 'F16';
  shape: number[];
  data: ArrayLike<number>;
}

class Pickler {
  private out: number[] = [];
  op(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...Buffer.from(`${module}\n${name}\n`));
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(b.length);
    return this.op(0x58, ...len, ...b);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.op(0x4b, n);
    if (n >= 0 && n < 65536) return this.op(0x4d, n & 0xff, n >> 8);
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return this.op(0x4a, ...b);
  }
  tuple(items: number[]): this {
    this.op(0x28);
    for (const i of items) this.int(i);
    return this.op(0x74);
  }
  bytes(): Buffer {
    return Buffer.from(this.out);
  }
}

function pickleStateDict(names: string[], tensors: TorchTensor[]): Buffer {
  const p = new Pickler().op(0x80, 2).global('collections', 'OrderedDict').op(0x29, 0x52).op(0x28);
  tensors.forEach((t, i) => {
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    p.str(names[i]).global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    p.op(0x28).str('storage').global('torch', t.dtype === 'F32' ? 'FloatStorage' : 'HalfStorage').str(String(i)).str('cpu').int(numel).op(0x74, 0x51);
    p.int(0).tuple(t.shape).tuple(stride).op(0x89).global('collections', 'OrderedDict').op(0x29, 0x52).op(0x74, 0x52);
  });
  return p.op(0x75, 0x2e).bytes();
}

function encode(t: TorchTensor): Buffer {
  const n = t.data.length;
  const b = Buffer.alloc(n * (t.dtype === 'F32' ? 4 : 2));
  for (let i = 0; i < n; i++) {
    if (t.dtype === 'F32') b.writeFloatLE(t.data[i], i * 4);
    else b.writeUInt16LE(f16(t.data[i]), i * 2);
  }
  return b;
}

function f16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 112;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | ((u >>> 13) & 0x3ff);
}

/** Writes `state` (name → tensor) as torch.save would. */
export function writeTorchStateDict(path: string, state: Record<string, TorchTensor>): void {
  const names = Object.keys(state);
  const tensors = names.map((n) => state[n]);
  const files: Array<[string, Buffer]> = [
    ['archive/data.pkl', pickleStateDict(names, tensors)],
    ['archive/byteorder', Buffer.from('little')],
    ...tensors.map((t, i): [string, Buffer] => [`archive/data/${i}`, encode(t)]),
    ['archive/version', Buffer.from('3\n')],
  ];
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of files) {
    const nameBytes = Buffer.from(name);
    const pad = (64 - ((offset + 30 + nameBytes.length + 4) % 64)) % 64; // extra field "FB" aligns the data
    const extra = Buffer.alloc(4 + pad);
    extra.writeUInt16LE(0x4246, 0);
    extra.writeUInt16LE(pad, 2);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(extra.length, 28);
    chunks.push(local, nameBytes, extra, data);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(nameBytes.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, nameBytes);
    offset += 30 + nameBytes.length + extra.length + data.length;
  }
  const dir = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  writeFileSync(path, Buffer.concat([...chunks, dir, end]));
}
