#!/usr/bin/env node
// Copies the few llama.cpp headers the addon includes from .llama/llama.cpp (node-llama-cpp's bundled
// release) into native/include, with the release tag, so that building the addon against
// node-llama-cpp's prebuilt libraries needs no llama.cpp clone. Run when node-llama-cpp is upgraded;
// `prepack` runs it to check that the committed copy matches the installed release.
//   node scripts/llama-headers.mjs          copy
//   node scripts/llama-headers.mjs --check  fail when native/include differs from the release
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { llamaSourceDir, packageDir } from './llama-source.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const headersDir = join(root, 'native', 'include');
// llama.h and what it includes (directly or through ggml-backend.h), and the backend interface
// structs native/outputBuffer.cpp implements (same release as the prebuilt libraries, so the same layout).
const HEADERS = ['include/llama.h', 'ggml/include/ggml.h', 'ggml/include/ggml-cpu.h', 'ggml/include/ggml-backend.h',
  'ggml/include/ggml-alloc.h', 'ggml/include/ggml-opt.h', 'ggml/include/gguf.h', 'ggml/src/ggml-backend-impl.h'];

/** The llama.cpp release node-llama-cpp bundles (and its prebuilt libraries are built from). */
export function bundledRelease() {
  return JSON.parse(readFileSync(join(packageDir('node-llama-cpp'), 'llama', 'llama.cpp.info.json'), 'utf8')).tag;
}

/** The release native/include was copied from. */
export function headersRelease() {
  const path = join(headersDir, 'RELEASE.json');
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')).tag : null;
}

function copy() {
  const source = llamaSourceDir();
  mkdirSync(headersDir, { recursive: true });
  for (const header of HEADERS) copyFileSync(join(source, header), join(headersDir, header.split('/').pop()));
  writeFileSync(join(headersDir, 'RELEASE.json'), JSON.stringify({ tag: bundledRelease(), from: 'llama.cpp (MIT), as bundled by node-llama-cpp', files: HEADERS }, null, 2) + '\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--check')) {
    const have = headersRelease();
    const want = bundledRelease();
    if (have !== want) {
      console.error(`native/include holds llama.cpp ${have} headers but node-llama-cpp bundles ${want}: run node scripts/llama-headers.mjs`);
      process.exit(1);
    }
  } else {
    copy();
    console.log(`copied ${HEADERS.length} llama.cpp ${bundledRelease()} headers into native/include`);
  }
}
