#!/usr/bin/env node
// Builds the native addon into build/Release (offline: no headers or sources are downloaded).
//
//   node scripts/build-native.mjs                one addon per installed node-llama-cpp prebuilt variant:
//                                                bge_gguf.node (cpu), bge_gguf_cuda.node, bge_gguf_vulkan.node,
//                                                linked to those prebuilt llama.cpp libraries (a few seconds)
//   node scripts/build-native.mjs --from-source  bge_gguf_source.node: llama.cpp compiled from .llama/llama.cpp
//                                                for this CPU (GGML_NATIVE), linked statically (minutes)
//   --if-possible   (npm install) on any failure print one warning line and exit 0
//   --variants=cpu,cuda   build only these prebuilt variants
//   --jobs=N        parallel compile jobs (default 2)
//
// build/Release/native-build.json records, per addon file, the variant and the directory its
// llama.cpp backends are loaded from (src/runtime/nativeBinding.ts reads it).
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { llamaSourceDir } from './llama-source.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outputDir = join(root, 'build', 'Release');
const logPath = join(root, 'build', 'native-build.log');
const manifestPath = join(outputDir, 'native-build.json');

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const ifPossible = flag('if-possible');
const fromSource = flag('from-source');
const jobs = Number(option('jobs') ?? 2);

import { BuildError, prebuiltVariants } from './prebuilt.mjs';

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
    return JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch {
    return { addons: {} };
  }
}

async function main() {
  if (process.env.BGE_GGUF_SKIP_NATIVE === '1') return;
  const started = Date.now();
  const llamaDir = llamaSourceDir();
  mkdirSync(outputDir, { recursive: true });
  const log = createWriteStream(logPath);
  const common = { BGE_LLAMA_SOURCE_DIR: llamaDir, BGE_OUTPUT_DIR: outputDir, CMAKE_BUILD_TYPE: 'Release' };
  const manifest = readManifest();
  let treeDir;
  let cmakeOptions;
  let built;
  if (fromSource) {
    treeDir = join(root, 'build', 'source-tree');
    cmakeOptions = { ...common, BGE_FROM_SOURCE: 'ON' };
    built = { 'bge_gguf_source.node': { variant: 'source', backendsDir: null } };
  } else {
    const variants = prebuiltVariants(option('variants')?.split(','));
    treeDir = join(root, 'build', 'prebuilt-tree');
    cmakeOptions = { ...common, BGE_FROM_SOURCE: 'OFF', BGE_VARIANTS: variants.map((v) => v.variant).join(';') };
    built = {};
    for (const v of variants) {
      cmakeOptions[`BGE_LIBS_DIR_${v.variant}`] = v.libsDir;
      cmakeOptions[`BGE_LLAMA_LIB_${v.variant}`] = v.llamaLib;
      built[v.variant === 'cpu' ? 'bge_gguf.node' : `bge_gguf_${v.variant}.node`] = { variant: v.variant, backendsDir: v.libsDir };
    }
  }
  mkdirSync(treeDir, { recursive: true });
  await run(await configureCommand(treeDir, cmakeOptions), treeDir, log);
  await run(['cmake', '--build', treeDir, '--config', 'Release', '--parallel', String(jobs)], treeDir, log);
  await new Promise((r) => log.end(r));
  for (const file of Object.keys(built)) {
    if (!existsSync(join(outputDir, file))) throw new BuildError(`${file} was not produced`);
  }
  manifest.addons = { ...manifest.addons, ...built };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`bge-gguf: built ${Object.keys(built).join(', ')} in build/Release (${seconds}s)`);
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
