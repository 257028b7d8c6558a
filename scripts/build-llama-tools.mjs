#!/usr/bin/env node
// Builds llama.cpp's `llama-embedding` (the bench's reference contender) from .llama/llama.cpp
// into .llama/build with cmake: Release, GGML_NATIVE=ON, static libs, only that target, -j2.
// Idempotent: cmake re-configures only when needed and make rebuilds only what changed.
// Usage: node scripts/build-llama-tools.mjs  -> prints the path of the binary.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { llamaSourceDir } from './llama-source.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, '.llama', 'build');
const target = 'llama-embedding';

export function llamaEmbeddingPath() {
  return join(buildDir, 'bin', target);
}

export function buildLlamaTools({ quiet = false } = {}) {
  const sourceDir = llamaSourceDir();
  const stdio = quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit';
  if (!existsSync(join(buildDir, 'CMakeCache.txt'))) {
    execFileSync('cmake', [
      '-S', sourceDir, '-B', buildDir,
      '-DCMAKE_BUILD_TYPE=Release',
      '-DGGML_NATIVE=ON',
      '-DBUILD_SHARED_LIBS=OFF',
      '-DLLAMA_BUILD_TESTS=OFF',
      '-DLLAMA_BUILD_SERVER=OFF',
      '-DLLAMA_BUILD_APP=OFF',
      '-DLLAMA_OPENSSL=OFF',
      '-DLLAMA_BUILD_EXAMPLES=ON',
    ], { stdio });
  }
  execFileSync('cmake', ['--build', buildDir, '--target', target, '-j', '2'], { stdio });
  const bin = llamaEmbeddingPath();
  if (!existsSync(bin)) throw new Error(`build finished but ${bin} is missing`);
  return bin;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(buildLlamaTools());
}
