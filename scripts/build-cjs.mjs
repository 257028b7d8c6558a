#!/usr/bin/env node
// Builds the CommonJS copy of the library into dist/cjs (what `require('bge-gguf')` loads), with its
// own .d.ts files. tsc decides a file's module format from the nearest package.json, so src/ is
// compiled from a copy under build/cjs-src whose package.json says "commonjs"; dynamic import()
// of ESM-only dependencies (node-llama-cpp) stays a real import() there.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceCopy = join(root, 'build', 'cjs-src');
const outDir = join(root, 'dist', 'cjs');

rmSync(sourceCopy, { recursive: true, force: true });
rmSync(outDir, { recursive: true, force: true });
mkdirSync(dirname(sourceCopy), { recursive: true });
cpSync(join(root, 'src'), sourceCopy, { recursive: true });
writeFileSync(join(sourceCopy, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
writeFileSync(join(sourceCopy, 'tsconfig.json'), JSON.stringify({
  extends: '../../tsconfig.json',
  compilerOptions: { rootDir: '.', outDir, sourceMap: false, tsBuildInfoFile: null },
  include: ['**/*.ts', '**/*.cts'],
}, null, 2));
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(sourceCopy, 'tsconfig.json')], { stdio: 'inherit' });
writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'commonjs' }) + '\n');
rmSync(sourceCopy, { recursive: true, force: true });
console.log('bge-gguf: CommonJS build in dist/cjs');
