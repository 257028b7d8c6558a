import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, sep } from 'node:path';
import { codeDir, packageRoot } from '../packageRoot.cjs';

export { codeDir, packageRoot };

/**
 * Inside an Electron asar archive, files that native code opens itself (addons, llama.cpp
 * libraries, GGUF models) must be read from app.asar.unpacked (docs/electron.md).
 */
export function unpacked(path: string): string {
  const marker = `app.asar${sep}`;
  if (!path.includes(marker)) return path;
  const outside = path.replace(marker, `app.asar.unpacked${sep}`);
  return existsSync(outside) ? outside : path;
}

/** The embedded model and registry (llama.cpp opens the GGUF itself, hence unpacked). */
export function modelsDir(): string {
  return unpacked(join(packageRoot(), 'models'));
}

/** Where hf: downloads are cached: $BGE_GGUF_CACHE, else $XDG_CACHE_HOME/bge-gguf, else ~/.cache/bge-gguf. */
export function cacheDir(): string {
  if (process.env.BGE_GGUF_CACHE) return process.env.BGE_GGUF_CACHE;
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'bge-gguf');
}
