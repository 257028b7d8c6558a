#!/usr/bin/env node
// Clones llama.cpp's sources from node-llama-cpp's git bundle into .llama/llama.cpp (offline).
// Usage: node scripts/llama-source.mjs  -> prints the directory.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Directory of an installed npm package (works for packages whose exports hide package.json). */
export function packageDir(name) {
  const require = createRequire(join(root, 'package.json'));
  for (const base of require.resolve.paths(name) ?? []) {
    if (existsSync(join(base, name, 'package.json'))) return join(base, name);
  }
  throw new Error(`npm package ${name} is not installed; run npm install`);
}

export function llamaSourceDir() {
  const dir = join(root, '.llama', 'llama.cpp');
  if (existsSync(join(dir, 'include', 'llama.h'))) return dir;
  const nlcDir = packageDir('node-llama-cpp');
  const bundle = join(nlcDir, 'llama', 'gitRelease.bundle');
  if (!existsSync(bundle)) throw new Error(`llama.cpp git bundle not found at ${bundle}; run npm install first`);
  mkdirSync(dirname(dir), { recursive: true });
  execFileSync('git', ['-c', 'advice.detachedHead=false', 'clone', '--quiet', bundle, dir], { stdio: 'inherit' });
  return dir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(llamaSourceDir());
}
