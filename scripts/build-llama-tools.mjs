#!/usr/bin/env node
// Builds llama.cpp's `llama-embedding` example (the bench's reference contender) twice:
//  - source:   from .llama/llama.cpp into .llama/build with cmake (Release, GGML_NATIVE=ON, static,
//              only that target, -j2), i.e. llama.cpp compiled for this CPU;
//  - prebuilt: the same embedding.cpp compiled against node-llama-cpp's prebuilt shared libraries
//              (.llama/build-prebuilt), i.e. the llama.cpp build that node-llama-cpp and the
//              prebuilt-linked bge-gguf addon run on. It must run with its cwd in that library
//              directory, where ggml looks for its dynamically loaded CPU backends.
// Idempotent: cmake/make rebuild only what changed; the prebuilt one is recompiled when missing.
// Usage: node scripts/build-llama-tools.mjs  -> prints the binaries.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { llamaSourceDir, packageDir } from './llama-source.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, '.llama', 'build');
const prebuiltBuildDir = join(root, '.llama', 'build-prebuilt');
const target = 'llama-embedding';

function buildFromSource(sourceDir, stdio) {
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
  const binary = join(buildDir, 'bin', target);
  if (!existsSync(binary)) throw new Error(`build finished but ${binary} is missing`);
  return binary;
}

/** node-llama-cpp's prebuilt CPU library directory for this platform, or null. */
function prebuiltLibsDir() {
  const os = { linux: 'linux', darwin: 'mac' }[process.platform];
  if (!os) return null;
  const stem = os === 'mac' && process.arch === 'arm64' ? 'mac-arm64-metal' : `${os}-${process.arch}`;
  try {
    const dir = join(packageDir(`@node-llama-cpp/${stem}`), 'bins', stem);
    return existsSync(dir) ? dir : null;
  } catch {
    return null;
  }
}

function buildAgainstPrebuilt(sourceDir, libsDir) {
  const binary = join(prebuiltBuildDir, target);
  if (existsSync(binary)) return binary;
  const files = readdirSync(libsDir);
  const lib = (pattern) => {
    const name = files.find((f) => pattern.test(f));
    if (!name) throw new Error(`no library matching ${pattern} in ${libsDir}`);
    return `-l:${name}`;
  };
  mkdirSync(prebuiltBuildDir, { recursive: true });
  execFileSync('c++', [
    '-O2', '-std=c++17', '-pthread',
    '-I', join(sourceDir, 'include'), '-I', join(sourceDir, 'common'),
    '-I', join(sourceDir, 'ggml', 'include'), '-I', join(sourceDir, 'vendor'),
    join(sourceDir, 'examples', 'embedding', 'embedding.cpp'),
    '-o', binary, '-L', libsDir,
    lib(/^libllama-common\.(so|dylib)$/), lib(/^libllama\.(.+\.)?v[\d.]+\.(so|dylib)$/),
    lib(/^libggml\.(.+\.)?v[\d.]+\.(so|dylib)$/), lib(/^libggml-base\.(so|dylib)$/),
    `-Wl,-rpath,${libsDir}`,
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  return binary;
}

/**
 * The llama-embedding builds: [{ name: 'source' | 'prebuilt', binary, cwd }]. A build that cannot
 * be made is reported on stderr and left out.
 */
export function buildLlamaTools({ quiet = false } = {}) {
  const sourceDir = llamaSourceDir();
  const stdio = quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit';
  const builds = [{ name: 'source', binary: buildFromSource(sourceDir, stdio), cwd: null }];
  const libsDir = prebuiltLibsDir();
  if (!libsDir) {
    console.error('build-llama-tools: node-llama-cpp\'s prebuilt libraries not found; only the source build of llama-embedding');
    return builds;
  }
  try {
    builds.push({ name: 'prebuilt', binary: buildAgainstPrebuilt(sourceDir, libsDir), cwd: libsDir });
  } catch (error) {
    console.error(`build-llama-tools: llama-embedding against the prebuilt libraries failed: ${error.message}`);
  }
  return builds;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const b of buildLlamaTools()) console.log(`${b.name}: ${b.binary}${b.cwd ? ` (run in ${b.cwd})` : ''}`);
}
