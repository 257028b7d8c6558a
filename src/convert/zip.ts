/**
 * Just enough of the zip format to read the archives torch.save writes (pytorch_model.bin, *.pt): the
 * central directory, stored (or deflated) entries, read from the file on demand; no zip64 (archives
 * up to 4 GiB, which covers BGE-M3's 2.3 GB pytorch_model.bin).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { InvalidInputError } from '../errors.js';

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

interface Entry {
  method: number;
  compressed: number;
  size: number;
  local: number;
}

export interface ZipArchive {
  names(): string[];
  has(name: string): boolean;
  /** The entry's uncompressed bytes. */
  read(name: string): Uint8Array;
  close(): void;
}

export function openZip(path: string): ZipArchive {
  const fd = openSync(path, 'r');
  try {
    return new ZipFile(path, fd);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

class ZipFile implements ZipArchive {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly path: string, private readonly fd: number) {
    const size = fstatSync(fd).size;
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = this.bytes(size - tailLength, tailLength);
    const tailView = view(tail);
    let end = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tailView.getUint32(i, true) === END_OF_DIRECTORY) {
        end = i;
        break;
      }
    }
    if (end < 0) throw this.bad('no end-of-directory record');
    const count = tailView.getUint16(end + 10, true);
    const directorySize = tailView.getUint32(end + 12, true);
    const directoryStart = tailView.getUint32(end + 16, true);
    if (count === 0xffff || directoryStart === 0xffffffff || directorySize === 0xffffffff) throw this.bad('zip64 archives are not supported');
    if (directoryStart + directorySize > size) throw this.bad('the central directory runs past the end of the file');
    const directory = this.bytes(directoryStart, directorySize);
    const d = view(directory);
    let p = 0;
    for (let k = 0; k < count; k++) {
      if (p + 46 > directory.length || d.getUint32(p, true) !== DIRECTORY_ENTRY) throw this.bad('broken central directory');
      const nameLength = d.getUint16(p + 28, true);
      const name = new TextDecoder().decode(directory.subarray(p + 46, p + 46 + nameLength));
      this.entries.set(name, { method: d.getUint16(p + 10, true), compressed: d.getUint32(p + 20, true), size: d.getUint32(p + 24, true), local: d.getUint32(p + 42, true) });
      p += 46 + nameLength + d.getUint16(p + 30, true) + d.getUint16(p + 32, true);
    }
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  read(name: string): Uint8Array {
    const e = this.entries.get(name);
    if (!e) throw this.bad(`no entry ${name}`);
    const header = view(this.bytes(e.local, 30));
    if (header.getUint32(0, true) !== LOCAL_HEADER) throw this.bad(`no local header for ${name}`);
    const raw = this.bytes(e.local + 30 + header.getUint16(26, true) + header.getUint16(28, true), e.compressed);
    const data = e.method === 0 ? raw : e.method === 8 ? new Uint8Array(inflateRawSync(raw)) : null;
    if (!data) throw this.bad(`${name} uses compression method ${e.method}`);
    if (data.length !== e.size) throw this.bad(`${name} has the wrong size`);
    return data;
  }

  close(): void {
    closeSync(this.fd);
  }

  private bytes(position: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, position + done);
      if (n === 0) throw this.bad('unexpected end of file');
      done += n;
    }
    return out;
  }

  private bad(why: string): InvalidInputError {
    return new InvalidInputError(`${this.path} is not a readable zip archive (${why}); is it a torch.save file?`);
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
