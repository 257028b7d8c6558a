#!/usr/bin/env node
// Builds the native addon into build/Release (offline: no headers or sources are downloaded).
//
//   node scripts/build-native.mjs                one addon per installed node-llama-cpp prebuilt variant:
//                                                bge_gguf.node (cpu), bge_gguf_cuda.node, bge_gguf_vulkan.node,
//                                                linked to those prebuilt llama.cpp libraries (a few seconds;
//                                                headers from native/include), plus bge_gguf_loader.node
//   node scripts/build-native.mjs --from-source  bge_gguf_source.node: llama.cpp compiled from .llama/llama.cpp
//                                                (cloned from node-llama-cpp's bundle, needs git) for this CPU
//                                                (GGML_NATIVE), linked statically (minutes)
//   --prebuild      write into prebuilds/<platform>-<arch>/ (what `npm pack` ships) instead of build/Release
//   --if-possible   on any failure print one warning line and exit 0
//   --variants=cpu,cuda   build only these prebuilt variants
//   --jobs=N        parallel compile jobs (default 2)
//
// native-build.json beside the addons records, per addon file, its variant, node-llama-cpp package and
// the library file names to preload; no absolute path (src/runtime/nativeBinding.ts finds the folder).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { llamaSourceDir } from './llama-source.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const prebuild = process.argv.includes('--prebuild');
const outputDir = prebuild ? join(root, 'prebuilds', `${process.platform}-${process.arch}`) : join(root, 'build', 'Release');
const logPath = join(root, 'build', 'native-build.log');
const manifestPath = join(outputDir, 'native-build.json');

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ifPossible = flag('if-possible');
const fromSource = flag('from-source');
const jobs = Number(option('jobs') ?? 2);

import { BuildError, prebuiltVariants } from './prebuilt.mjs';
import { bundledRelease, headersRelease } from './llama-headers.mjs';

/** cmake's configure command from cmake-js (Node-API headers from node-api-headers, never downloaded). */
async function configureCommand(treeDir, cmakeOptions) {
  const require = createRequire(join(root, 'package.json'));
  const { BuildSystem } = require('cmake-js');
  const system = new BuildSystem({ directory: root, out: treeDir, config: 'Release', cMakeOptions: cmakeOptions, noLog: true });
  // A Node-API addon needs no node headers; without this cmake-js would fetch them unless
  // package.json declares binary.napi_versions.
  system.options.isNodeApi = true;
  return system.getConfigureCommand();
}

function run(command, cwd, log) {
  return new Promise((resolvePromise, reject) => {
    log.write(`$ ${command.join(' ')}\n`);
    const child = spawn(command[0], command.slice(1), { cwd, env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: String(jobs) } });
    let tail = '';
    const onData = (chunk) => {
      log.write(chunk);
      if (!ifPossible) process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) => reject(new BuildError(`${command[0]}: ${error.message}`)));
    child.on('exit', (code) => {
      if (code === 0) return resolvePromise();
      const reason = tail.split('\n').find((l) => /error|Error|ERROR/.test(l))?.trim() ?? `exit code ${code}`;
      reject(new BuildError(`${command[0]} failed: ${reason}`));
    });
  });
}

function readManifest() {
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    // entries written before the addons became relocatable (absolute backendsDir) are rebuilt
    for (const [file, entry] of Object.entries(manifest.addons ?? {})) if (!Array.isArray(entry.libs)) delete manifest.addons[file];
    return manifest;
  } catch {
    return { addons: {} };
  }
}

/** A build tree configured in another folder (the checkout or install was moved or copied) is reconfigured. */
function dropStaleCache(treeDir) {
  const cache = join(treeDir, 'CMakeCache.txt');
  if (!existsSync(cache)) return;
  const home = /^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$/m.exec(readFileSync(cache, 'utf8'))?.[1];
  if (home && resolve(home) !== root) rmSync(treeDir, { recursive: true, force: true });
}

async function main() {
  if (process.env.BGE_GGUF_SKIP_NATIVE === '1') return;
  const started = Date.now();
  mkdirSync(outputDir, { recursive: true });
  mkdirSync(dirname(logPath), { recursive: true });
  const log = createWriteStream(logPath);
  const common = { BGE_OUTPUT_DIR: outputDir, CMAKE_BUILD_TYPE: 'Release' };
  const manifest = readManifest();
  let treeDir;
  let cmakeOptions;
  let built;
  if (fromSource) {
    treeDir = join(root, 'build', 'source-tree');
    cmakeOptions = { ...common, BGE_FROM_SOURCE: 'ON', BGE_LLAMA_SOURCE_DIR: llamaSourceDir() };
    built = { 'bge_gguf_source.node': { variant: 'source', package: null, libs: [] } };
  } else {
    const variants = prebuiltVariants(option('variants')?.split(','));
    if (headersRelease() !== bundledRelease()) {
      throw new BuildError(`native/include holds llama.cpp ${headersRelease()} headers, node-llama-cpp ${bundledRelease()}: run node scripts/llama-headers.mjs`);
    }
    treeDir = join(root, 'build', prebuild ? 'prebuild-tree' : 'prebuilt-tree');
    cmakeOptions = { ...common, BGE_FROM_SOURCE: 'OFF', BGE_VARIANTS: variants.map((v) => v.variant).join(';') };
    built = {};
    for (const v of variants) {
      cmakeOptions[`BGE_LIBS_DIR_${v.variant}`] = v.libsDir;
      cmakeOptions[`BGE_LLAMA_LIB_${v.variant}`] = v.llamaLib;
      cmakeOptions[`BGE_PACKAGE_${v.variant}`] = v.pkg;
      built[v.variant === 'cpu' ? 'bge_gguf.node' : `bge_gguf_${v.variant}.node`] = { variant: v.variant, package: v.pkg, libs: v.libs };
    }
  }
  dropStaleCache(treeDir);
  mkdirSync(treeDir, { recursive: true });
  await run(await configureCommand(treeDir, cmakeOptions), treeDir, log);
  await run(['cmake', '--build', treeDir, '--config', 'Release', '--parallel', String(jobs)], treeDir, log);
  await new Promise((r) => log.end(r));
  for (const file of [...Object.keys(built), ...(fromSource ? [] : ['bge_gguf_loader.node'])]) {
    if (!existsSync(join(outputDir, file))) throw new BuildError(`${file} was not produced`);
  }
  manifest.addons = { ...manifest.addons, ...built };
  manifest.llamaCpp = bundledRelease();
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`bge-gguf: built ${Object.keys(built).join(', ')} in ${relative(root, outputDir)} (${seconds}s)`);
}

main().catch((error) => {
  const reason = error instanceof BuildError ? error.message : String(error?.message ?? error);
  if (ifPossible) {
    console.warn(`bge-gguf: native addon not built (${reason.split('\n')[0]}); using node-llama-cpp instead. Details: ${logPath}`);
    process.exit(0);
  }
  console.error(`bge-gguf: native build failed: ${reason}\n  log: ${logPath}`);
  process.exit(1);
});
