/** Vector output formats of `bge-gguf embed`: jsonl, json, csv (text) and npy, f32 (binary, little-endian float32). */
import { endianness } from 'node:os';
import type { LexicalWeights } from '../heads/m3.js';

export const FORMATS = ['jsonl', 'json', 'npy', 'f32', 'csv'] as const;
export type Format = (typeof FORMATS)[number];

/** The shortest decimal that reads back as the same float32 (not the 17 digits of the double). */
export function shortFloat(x: number): string {
  if (!Number.isFinite(x)) return 'null';
  for (let digits = 1; digits < 9; digits++) {
    const text = x.toPrecision(digits);
    if (Math.fround(Number(text)) === x) return String(Number(text));
  }
  return String(Number(x.toPrecision(9)));
}

const vectorJson = (v: Float32Array) => `[${Array.from(v, shortFloat).join(',')}]`;

function float32Bytes(vectors: Float32Array[]): Buffer {
  const dim = vectors[0]?.length ?? 0;
  const out = Buffer.alloc(vectors.length * dim * 4);
  vectors.forEach((v, i) => {
    if (endianness() === 'LE') out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), i * dim * 4);
    else v.forEach((x, k) => out.writeFloatLE(x, (i * dim + k) * 4));
  });
  return out;
}

/** NumPy's .npy v1.0 header for a float32 matrix of rows × dim. */
export function npyHeader(rows: number, dim: number): Buffer {
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
  const unpadded = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const header = Buffer.alloc(10);
  header.write('\x93NUMPY', 0, 'latin1');
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(dict.length, 8);
  return Buffer.concat([header, Buffer.from(dict, 'latin1')]);
}

/** BGE-M3's outputs beside a batch's vectors (jsonl and json only). */
export interface M3Extras {
  lexicalWeights?: LexicalWeights[];
  colbertVecs?: Float32Array[][];
}

const weightsJson = (w: LexicalWeights) => `{${Object.entries(w).map(([id, x]) => `${JSON.stringify(id)}:${shortFloat(x)}`).join(',')}}`;

/** One text's JSON object: {"index"?, "embedding", "lexical_weights"?, "colbert_vecs"?}. */
function recordJson(v: Float32Array, k: number, extras: M3Extras, index?: number): string {
  const lexical = extras.lexicalWeights ? `,"lexical_weights":${weightsJson(extras.lexicalWeights[k])}` : '';
  const colbert = extras.colbertVecs ? `,"colbert_vecs":[${extras.colbertVecs[k].map(vectorJson).join(',')}]` : '';
  return `{${index === undefined ? '' : `"index":${index},`}"embedding":${vectorJson(v)}${lexical}${colbert}}`;
}

/**
 * Writes vectors batch by batch, so a large corpus is never held whole: `start` once (with the total),
 * `batch` for each slice in input order, `end` once.
 */
export function vectorWriter(format: Format, write: (chunk: string | Buffer) => void) {
  let first = true;
  return {
    start(total: number, dim: number): void {
      if (format === 'npy') write(npyHeader(total, dim));
      if (format === 'json') write('[');
    },
    batch(index: number, vectors: Float32Array[], extras: M3Extras = {}): void {
      const withExtras = extras.lexicalWeights !== undefined || extras.colbertVecs !== undefined;
      if (format === 'jsonl') write(vectors.map((v, k) => `${recordJson(v, k, extras, index + k)}\n`).join(''));
      else if (format === 'json' && withExtras) {
        write(vectors.map((v, k) => `${first ? '' : ','}\n${(first = false), recordJson(v, k, extras)}`).join(''));
      }
      else if (format === 'csv') write(vectors.map((v) => `${Array.from(v, shortFloat).join(',')}\n`).join(''));
      else if (format === 'json') {
        write(vectors.map((v) => `${first ? '' : ','}\n${(first = false), vectorJson(v)}`).join(''));
      } else write(float32Bytes(vectors));
    },
    end(): void {
      if (format === 'json') write('\n]\n');
    },
  };
}
