// Random-weight BGE-shaped GGUFs with the real bge WordPiece vocab, generated once into .cache/bench-models/.
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';

export const SHAPES = {
  small: { name: 'bge-small', layers: 12, hidden: 384, heads: 12, ffn: 1536 },
  base: { name: 'bge-base', layers: 12, hidden: 768, heads: 12, ffn: 3072 },
};

export const TYPE_NAMES = ['f32', 'f16', 'q8_0'];

/** Path of the model for (shape, type), generating it first when missing. */
export async function ensureModel(root, shapeKey, typeName, log) {
  const shape = SHAPES[shapeKey];
  const dir = join(root, '.cache', 'bench-models');
  const path = join(dir, `${shape.name}-${typeName}.gguf`);
  if (existsSync(path)) return path;
  const [{ writeSyntheticBert }, { GgmlType }] = await Promise.all([
    import('../test/support/synthetic/bert.ts'),
    import('../dist/gguf/types.js'),
  ]);
  const type = { f32: GgmlType.F32, f16: GgmlType.F16, q8_0: GgmlType.Q8_0 }[typeName];
  mkdirSync(dir, { recursive: true });
  log(`generating ${path} ...`);
  const partial = `${path}.partial`;
  await writeSyntheticBert(partial, {
    layers: shape.layers, hidden: shape.hidden, heads: shape.heads, ffn: shape.ffn,
    maxPositions: 512, type, pooling: 'cls', seed: 42,
    vocabGguf: join(root, '.llama', 'llama.cpp', 'models', 'ggml-vocab-bert-bge.gguf'),
  });
  renameSync(partial, path);
  return path;
}
