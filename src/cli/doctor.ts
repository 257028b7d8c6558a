/**
 * `bge-gguf doctor`: which native addon runs and from where, the llama.cpp CPU backend it picked
 * and why, GPUs, versions, usable cores, and the time of a short encode — what to look at when
 * embedding is slower than expected.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { relative } from 'node:path';
import { FlagModel } from '../api/FlagModel.js';
import { packageRoot } from '../models/paths.js';
import { cpuBuildsKey, readCpuBuildCache, cpuBuildsFile } from '../runtime/cpuLibrary.js';
import { FALLBACK_COST, NATIVE_FIX } from '../runtime/load.js';
import { addonPath, isAddonBuilt, loadAddon, type LoadedAddon, type NativeVariant } from '../runtime/nativeBinding.js';
import { availableCores, cgroupCpuLimit } from '../runtime/threads.js';
import { availableParallelism, cpus } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';

export interface DoctorOptions {
  /** model to time the encode with (default: the embedded model) */
  model?: string;
  /** time a short encode (loads the model) */
  encode: boolean;
}

const SAMPLE = Array.from({ length: 16 }, (_, i) => `doctor sample sentence number ${i} about embeddings and search`);

function readJson(path: string): any {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function versionOf(name: string): string {
  const require = createRequire(join(packageRoot(), 'package.json'));
  for (const base of require.resolve.paths(name) ?? []) {
    const version = readJson(join(base, name, 'package.json'))?.version;
    if (version) return version;
  }
  return 'not installed';
}

function tryLoad(variant: NativeVariant): LoadedAddon | string {
  try {
    return loadAddon(variant);
  } catch (error) {
    return (error as Error).message;
  }
}

/** The llama.cpp CPU backend library mapped into this process (Linux), e.g. libggml-cpu-haswell.so. */
function loadedCpuBackend(): string | null {
  try {
    const maps = readFileSync('/proc/self/maps', 'utf8');
    return /\/(libggml-cpu[^/\s]*\.so)\s*$/m.exec(maps)?.[1] ?? null;
  } catch {
    return null;
  }
}

function where(file: string): string {
  const path = relative(packageRoot(), file);
  if (path.startsWith('prebuilds')) return `${path} (prebuilt, shipped in the package)`;
  if (path.startsWith('build')) return `${path} (built on this machine)`;
  return file;
}

export async function runDoctor(options: DoctorOptions): Promise<string> {
  const out: string[] = [];
  const root = packageRoot();
  const release = readJson(join(root, 'native', 'include', 'RELEASE.json'))?.tag ?? 'unknown';
  out.push(`bge-gguf ${readJson(join(root, 'package.json'))?.version} at ${root}`);
  out.push(`node ${process.version} ${process.platform}-${process.arch}; node-llama-cpp ${versionOf('node-llama-cpp')}; llama.cpp ${release}`);
  const quota = cgroupCpuLimit();
  out.push(
    `CPU: ${cpus()[0]?.model ?? 'unknown'}; usable cores ${availableCores()} (affinity ${availableParallelism()}, cgroup quota ${Number.isFinite(quota) ? quota : 'none'}) = default threads`,
  );

  const cpu = tryLoad('cpu');
  if (typeof cpu === 'string') {
    out.push(`native addon: NOT loadable — ${cpu}`);
    out.push(`  bge-gguf runs on node-llama-cpp instead, ${FALLBACK_COST}`);
    out.push(`  fix: ${NATIVE_FIX.replace(/; `npx bge-gguf doctor`.*$/, '')}`);
  } else {
    out.push(`native addon: cpu variant, ${where(cpu.file)}`);
    out.push(`  llama.cpp libraries: ${cpu.libsDir ?? 'linked in'}`);
    const backend = loadedCpuBackend();
    const features = [...cpu.addon.systemInfo().matchAll(/(\w+) = 1/g)].map((m) => m[1]).join(' ');
    out.push(
      backend
        ? `  CPU backend: ${backend}, the highest-scoring of node-llama-cpp's CPU builds whose instruction sets this CPU has (${features})`
        : `  CPU backend features: ${features}`,
    );
    const { isa } = cpu.addon.cpuKernels();
    out.push(
      isa === 'ggml'
        ? `  CPU kernels: llama.cpp's (${process.env.BGE_GGUF_CPU_KERNELS === 'ggml' ? 'BGE_GGUF_CPU_KERNELS=ggml' : 'this CPU lacks AVX2, FMA or F16C for the addon\'s'})`
        : `  CPU kernels: the addon's ${isa === 'avx512' ? 'AVX-512' : 'AVX2'} attention, F16/F32 matrix products and GELU (BGE_GGUF_CPU_KERNELS=ggml for llama.cpp's)`,
    );
  }

  if (isAddonBuilt('source')) {
    out.push(`from-source build: ${where(addonPath('source'))}`);
    const measured = readCpuBuildCache()[cpuBuildsKey()] ?? {};
    const types = Object.entries(measured);
    if (types.length === 0) out.push(`  no weight type measured yet (the first model of each type is timed on both builds; cache ${cpuBuildsFile()})`);
    for (const [type, m] of types) {
      const speeds = Object.entries(m.tokensPerSecond).map(([b, v]) => `${b === 'cpu' ? 'prebuilt' : 'source'} ${Math.round(v ?? 0)} tokens/s`);
      out.push(`  ${type} → ${m.chosen === 'cpu' ? 'prebuilt' : 'source'} (${speeds.join(', ')}; measured ${m.measuredAt})`);
    }
  } else {
    out.push('from-source build: none (opt-in: node node_modules/bge-gguf/scripts/build-native.mjs --from-source; every model runs on the prebuilt libraries)');
  }

  for (const variant of ['cuda', 'vulkan'] as const) {
    if (!isAddonBuilt(variant)) {
      out.push(`GPU ${variant}: no addon for this platform`);
      continue;
    }
    const gpu = tryLoad(variant);
    if (typeof gpu === 'string') {
      out.push(`GPU ${variant}: ${gpu}`);
      continue;
    }
    const devices = gpu.addon.devices().filter((d) => d.type === 'gpu' || d.type === 'igpu');
    out.push(`GPU ${variant}: ${devices.length ? devices.map((d) => `${d.description} (${d.backend})`).join(', ') : 'no device found'}`);
  }

  if (options.encode) {
    const started = performance.now();
    const model = await FlagModel.load(options.model);
    try {
      const loaded = performance.now();
      await model.encode(SAMPLE.slice(0, 2));
      const warm = performance.now();
      await model.encode(SAMPLE);
      const done = performance.now();
      out.push(
        `encode: ${options.model ?? 'embedded model'} on ${model.engineKind}: load ${Math.round(loaded - started)} ms, first encode ${Math.round(warm - loaded)} ms, ` +
          `${SAMPLE.length} short texts in ${Math.round(done - warm)} ms (${Math.round((SAMPLE.length * 1000) / (done - warm))} texts/s)`,
      );
    } finally {
      await model.dispose();
    }
  }
  return out.join('\n');
}

export function doctorCommand(): Command {
  return new Command('doctor')
    .description('show the native addon, the llama.cpp CPU backend and why, GPUs, versions, usable cores, and time a short encode')
    .option('-m, --model <model>', 'model to time the encode with (default: the embedded model)')
    .option('--no-encode', 'skip the timed encode')
    .action(async (options: { model?: string; encode: boolean }) => {
      console.log(await runDoctor({ model: options.model, encode: options.encode }));
    });
}
