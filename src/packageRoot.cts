// A .cts file so it is CommonJS in both builds and can use __dirname (the ESM build has no
// __dirname, and the CommonJS build cannot compile ESM-only module metadata), so src/ has one way to find its files.
// Written without type annotations: vitest loads .cts files untransformed.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached = '';

/** The bge-gguf package folder (from src/ under vitest, dist/ or dist/cjs). */
export function packageRoot() {
  if (cached) return cached;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    let name;
    try {
      name = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name;
    } catch {
      name = undefined;
    }
    if (name === 'bge-gguf') return (cached = dir);
    if (dirname(dir) === dir) throw new Error(`bge-gguf: no package.json named bge-gguf above ${__dirname}`);
  }
}

/** The folder the library's code runs from: src/ (under tsx or vitest), dist/ or dist/cjs. */
export function codeDir() {
  return __dirname;
}
