/**
 * Just enough of the zip format to read the archives torch.save writes: the central directory,
 * stored (or deflated) entries, no zip64 (the files it reads here are a few megabytes).
 */
import { inflateRawSync } from 'node:zlib';
import { InvalidInputError } from '../errors.js';

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;

/** Entry name → its uncompressed bytes (views of `data` for stored entries). */
export function readZip(data: Uint8Array, what: string): Map<string, Uint8Array> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const bad = (why: string) => new InvalidInputError(`${what} is not a readable zip archive (${why}); is it a torch.save file?`);
  let end = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === END_OF_DIRECTORY) {
      end = i;
      break;
    }
  }
  if (end < 0) throw bad('no end-of-directory record');
  const count = view.getUint16(end + 10, true);
  let p = view.getUint32(end + 16, true);
  if (count === 0xffff || p === 0xffffffff) throw bad('zip64 archives are not supported');
  const entries = new Map<string, Uint8Array>();
  for (let k = 0; k < count; k++) {
    if (p + 46 > data.length || view.getUint32(p, true) !== DIRECTORY_ENTRY) throw bad('broken central directory');
    const method = view.getUint16(p + 10, true);
    const compressed = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(data.subarray(p + 46, p + 46 + nameLength));
    p += 46 + nameLength + extraLength + commentLength;
    if (local + 30 > data.length || view.getUint32(local, true) !== LOCAL_HEADER) throw bad(`no local header for ${name}`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + compressed > data.length) throw bad(`${name} runs past the end of the file`);
    const raw = data.subarray(start, start + compressed);
    if (method === 0) entries.set(name, raw);
    else if (method === 8) entries.set(name, new Uint8Array(inflateRawSync(raw)));
    else throw bad(`${name} uses compression method ${method}`);
    if (entries.get(name)!.length !== size) throw bad(`${name} has the wrong size`);
  }
  return entries;
}
