#!/usr/bin/env node
// npm's `install` step. In an installed package: checks that the prebuilt addon for this platform
// (prebuilds/<platform>-<arch>, made by `npm pack`) loads, and says what to do when it does not;
// it compiles, clones and downloads nothing. Building from source is opt-in:
//   npm rebuild bge-gguf --build-from-source     (or BGE_GGUF_BUILD_FROM_SOURCE=1 npm install)
// needs cmake and a C++ compiler, and is the path for platforms without a prebuilt addon.
// In a checkout of the repository (src/ present) it builds the addon into build/Release and clones
// llama.cpp's sources into .llama/ (the tests read its vocab files), as development needs.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const platform = `${process.platform}-${process.arch}`;
const fromSource = process.env.npm_config_build_from_source === 'true' || process.env.BGE_GGUF_BUILD_FROM_SOURCE === '1';
const checkout = existsSync(join(root, 'src', 'index.ts'));

function node(script, ...args) {
  return spawnSync(process.execPath, [join(root, 'scripts', script), ...args], { stdio: 'inherit' }).status ?? 1;
}

/** The reason the CPU addon does not load, or null when it does (the library's own loader). */
function addonProblem() {
  try {
    const { loadAddon } = createRequire(import.meta.url)(join(root, 'dist', 'cjs', 'runtime', 'nativeBinding.js'));
    loadAddon('cpu');
    return null;
  } catch (error) {
    return String(error?.message ?? error).split('\n')[0];
  }
}

if (process.env.BGE_GGUF_SKIP_NATIVE === '1') process.exit(0);
if (checkout) {
  if (node('llama-source.mjs') !== 0) console.warn('bge-gguf: could not clone llama.cpp into .llama (git missing?); tests that read its vocab files will fail');
  process.exit(node('build-native.mjs', '--if-possible'));
}
if (fromSource) process.exit(node('build-native.mjs'));
const problem = addonProblem();
if (problem) {
  const prebuilt = existsSync(join(root, 'prebuilds', platform));
  console.warn(
    `bge-gguf: the native addon does not load (${problem}).\n` +
      `  bge-gguf still works on node-llama-cpp, about 20x slower.\n` +
      (prebuilt ? '' : `  There is no prebuilt addon for ${platform}.\n`) +
      `  Fix: npm rebuild bge-gguf --build-from-source   (needs cmake and a C++ compiler)`,
  );
}
