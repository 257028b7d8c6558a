import { homedir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../packageRoot.cjs';

export { packageRoot };

export function modelsDir(): string {
  return join(packageRoot(), 'models');
}

/** Where hf: downloads are cached: $BGE_GGUF_CACHE, else $XDG_CACHE_HOME/bge-gguf, else ~/.cache/bge-gguf. */
export function cacheDir(): string {
  if (process.env.BGE_GGUF_CACHE) return process.env.BGE_GGUF_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'bge-gguf');
}
