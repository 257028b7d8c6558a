import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (works from src/ under vitest and from dist/ once compiled). */
export function packageRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export function modelsDir(): string {
  return join(packageRoot(), 'models');
}

/** Where hf: downloads are cached: $BGE_GGUF_CACHE, else $XDG_CACHE_HOME/bge-gguf, else ~/.cache/bge-gguf. */
export function cacheDir(): string {
  if (process.env.BGE_GGUF_CACHE) return process.env.BGE_GGUF_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'bge-gguf');
}

/** The folder the library's code runs from: src/ (TypeScript, under tsx or vitest) or dist/ (compiled). */
export function codeDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}
