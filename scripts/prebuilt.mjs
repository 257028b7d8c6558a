// Finds node-llama-cpp's prebuilt llama.cpp libraries (one directory per variant: cpu, cuda, vulkan).
// Used by build-native.mjs (cmake-js) and binding.gyp (node-gyp):
//   node scripts/prebuilt.mjs libs-dir | llama-lib | ggml-lib   -> the CPU variant's directory / file names
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageDir } from './llama-source.mjs';

export class BuildError extends Error {}

/** libllama's file name: libllama.v0.5.0.so, libllama.cuda.v0.5.0.so, libllama.dylib, llama.dll ("llama-common" is not it). */
export const LLAMA_LIB = /^(lib)?llama\.([a-z]+\.)?(v[\d.]+\.)?(so|dylib|dll)$/;

/** node-llama-cpp's package name stem for this platform, e.g. linux-x64, mac-arm64-metal, win-x64. */
export function platformStem() {
  const os = { linux: 'linux', darwin: 'mac', win32: 'win' }[process.platform];
  if (!os) throw new BuildError(`no prebuilt llama.cpp for platform ${process.platform}`);
  if (os === 'mac' && process.arch === 'arm64') return 'mac-arm64-metal';
  return `${os}-${process.arch}`;
}

/** Installed prebuilt variants: [{variant, pkg, libsDir, llamaLib, libs}] (cpu first); libs: file names in load order. */
export function prebuiltVariants(wanted) {
  const stem = platformStem();
  const found = [];
  for (const [variant, pkg] of [['cpu', stem], ['cuda', `${stem}-cuda`], ['vulkan', `${stem}-vulkan`]]) {
    if (wanted && !wanted.includes(variant)) continue;
    let dir;
    try {
      dir = packageDir(`@node-llama-cpp/${pkg}`);
    } catch {
      if (variant === 'cpu') throw new BuildError(`@node-llama-cpp/${pkg} is not installed (node-llama-cpp's prebuilt libraries)`);
      continue;
    }
    const libsDir = join(dir, 'bins', pkg);
    const llamaLib = existsSync(libsDir)
      ? readdirSync(libsDir).find((f) => LLAMA_LIB.test(f))
      : undefined;
    if (!llamaLib) throw new BuildError(`no libllama in ${libsDir}`);
    checkSameRelease(libsDir);
    const prefix = llamaLib.startsWith('lib') ? 'lib' : '';
    const suffix = llamaLib.slice(llamaLib.lastIndexOf('.'));
    const libs = [`${prefix}ggml-base${suffix}`, llamaLib.replace('llama', 'ggml'), llamaLib];
    found.push({ variant, pkg, libsDir, llamaLib, libs });
  }
  if (found.length === 0) throw new BuildError(`none of the variants ${wanted} is installed`);
  return found;
}

/** The headers come from node-llama-cpp's llama.cpp bundle; the binaries must be the same release. */
function checkSameRelease(libsDir) {
  const metaPath = join(libsDir, '_nlcBuildMetadata.json');
  const infoPath = join(packageDir('node-llama-cpp'), 'llama', 'llama.cpp.info.json');
  if (!existsSync(metaPath) || !existsSync(infoPath)) return;
  const binRelease = JSON.parse(readFileSync(metaPath, 'utf8'))?.buildOptions?.llamaCpp?.release;
  const srcRelease = JSON.parse(readFileSync(infoPath, 'utf8'))?.tag;
  if (binRelease && srcRelease && binRelease !== srcRelease) {
    throw new BuildError(`prebuilt llama.cpp ${binRelease} in ${libsDir} does not match the headers' release ${srcRelease}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const cpu = prebuiltVariants(['cpu'])[0];
  const what = process.argv[2];
  if (what === 'libs-dir') console.log(cpu.libsDir);
  else if (what === 'llama-lib') console.log(cpu.llamaLib);
  else if (what === 'ggml-lib') console.log(cpu.llamaLib.replace('libllama', 'libggml'));
  else {
    console.error('usage: node scripts/prebuilt.mjs libs-dir|llama-lib|ggml-lib');
    process.exit(2);
  }
}
