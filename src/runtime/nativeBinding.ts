/**
 * Finds and loads the native addon: bge_gguf.node (cpu, linked to node-llama-cpp's prebuilt llama.cpp),
 * bge_gguf_cuda.node, bge_gguf_vulkan.node, bge_gguf_source.node (llama.cpp compiled for this CPU).
 * Looked up in build/Release (built on this machine by scripts/build-native.mjs) and then in
 * prebuilds/<platform>-<arch> (shipped in the npm package). Relocatable: node-llama-cpp's library
 * folder is found at run time and its libraries are preloaded by absolute path through
 * bge_gguf_loader.node, so nothing depends on where the package was installed or moved to.
 * BGE_GGUF_NATIVE_ADDON=<variant or path> forces one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { packageRoot, unpacked } from '../models/paths.js';

export type NativeVariant = 'cpu' | 'source' | 'cuda' | 'vulkan';

export interface NativeModelInfo {
  arch: string;
  name: string;
  nEmbd: number;
  nCtxTrain: number;
  nVocab: number;
  /** GGUF {arch}.pooling_type, -1 when absent. */
  poolingType: number;
  causal: boolean;
  bos: number; // -1 when none
  eos: number;
  sep: number;
  addBos: boolean;
  addEos: boolean;
  addSep: boolean;
  vocabOnly: boolean;
}

export interface NativeContextOptions {
  nCtx?: number;
  nBatch?: number;
  nSeqMax?: number;
  pooling: 'mean' | 'cls' | 'last' | 'rank' | 'none';
  threads?: number;
  flashAttention?: boolean;
}

export interface NativeContextInfo {
  nCtx: number;
  nBatch: number;
  nSeqMax: number;
  maxSeqLen: number;
  nEmbd: number;
  pooling: string;
  threads: number;
  causal: boolean;
}

export interface NativeContext {
  info(): NativeContextInfo;
  /**
   * Pooled, un-normalized vectors, flat: sequence i at [i * nEmbd, (i + 1) * nEmbd).
   * threads: for this decode only, 1..the context's threads (default: all of them).
   */
  encode(sequences: Int32Array[], threads?: number): Promise<Float32Array>;
  cancel(): void;
  dispose(): void;
}

export interface NativeModel {
  info(): NativeModelInfo;
  tokenize(text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  detokenize(tokens: Int32Array | number[], removeSpecial?: boolean, unparseSpecial?: boolean): string;
  createContext(options: NativeContextOptions): NativeContext;
  dispose(): void;
}

export interface NativeDevice {
  name: string;
  description: string;
  type: 'cpu' | 'gpu' | 'igpu' | 'accel' | 'other';
  backend: string;
}

export interface NativeAddon {
  dynamicBackends: boolean;
  /** rows · weightᵀ + bias (weight out × in); absent in addons built before it existed. */
  applyLinear?(rows: Float32Array, count: number, weight: Float32Array, bias: Float32Array, threads: number): Promise<Float32Array>;
  init(options: { backendsDir?: string; fallbackBackendFiles?: string[] }): void;
  devices(): NativeDevice[];
  /**
   * The addon's CPU kernels (native/kernels): the instruction set they run with ('ggml': none run,
   * llama.cpp's own kernels do everything) and how many attention, matrix-product and GELU operations they have run.
   */
  cpuKernels(): { isa: 'avx512' | 'avx2' | 'ggml'; attention: number; matMul: number; gelu: number };
  systemInfo(): string;
  loadModel(path: string, options: { gpuLayers?: number; useMmap?: boolean; vocabOnly?: boolean }): Promise<NativeModel>;
}

export interface LoadedAddon {
  variant: NativeVariant;
  file: string;
  addon: NativeAddon;
  /** node-llama-cpp's library folder it runs on (null for the from-source build). */
  libsDir: string | null;
}

const FILES: Record<NativeVariant, string> = {
  cpu: 'bge_gguf.node',
  source: 'bge_gguf_source.node',
  cuda: 'bge_gguf_cuda.node',
  vulkan: 'bge_gguf_vulkan.node',
};

const LOADER = 'bge_gguf_loader.node';

interface ManifestEntry {
  variant: NativeVariant;
  /** node-llama-cpp's package holding the libraries, e.g. linux-x64-cuda; null for a static build. */
  package: string | null;
  /** Library file names in that package's bins folder, in load order. */
  libs: string[];
}

/** Folders that may hold addon files: built on this machine first, then the shipped prebuilt ones. */
export function addonDirs(): string[] {
  const root = packageRoot();
  return [join(root, 'build', 'Release'), join(root, 'prebuilds', `${process.platform}-${process.arch}`)].map(unpacked);
}

/** The file a variant loads from (build/Release first, then prebuilds/), whether or not it exists. */
export function addonPath(variant: NativeVariant): string {
  const dirs = addonDirs();
  const found = dirs.map((d) => join(d, FILES[variant])).find((f) => existsSync(f));
  return found ?? join(dirs[0], FILES[variant]);
}

function readManifest(dir: string): Record<string, ManifestEntry> {
  try {
    return JSON.parse(readFileSync(join(dir, 'native-build.json'), 'utf8')).addons ?? {};
  } catch {
    return {};
  }
}

/** node-llama-cpp's platform package name for a variant, e.g. linux-x64, linux-x64-cuda, mac-arm64-metal. */
function platformPackage(variant: NativeVariant): string | null {
  const os = ({ linux: 'linux', darwin: 'mac', win32: 'win' } as Record<string, string>)[process.platform];
  if (!os || variant === 'source') return null;
  const stem = os === 'mac' && process.arch === 'arm64' ? 'mac-arm64-metal' : `${os}-${process.arch}`;
  return variant === 'cpu' ? stem : `${stem}-${variant}`;
}

/** The bins folder of an installed @node-llama-cpp/<pkg>, found from this package as Node resolves it. */
export function prebuiltBinsDir(pkg: string | null): string | null {
  if (!pkg) return null;
  const require = createRequire(join(packageRoot(), 'package.json'));
  for (const base of require.resolve.paths(`@node-llama-cpp/${pkg}`) ?? []) {
    const dir = join(base, '@node-llama-cpp', pkg, 'bins', pkg);
    if (existsSync(dir)) return unpacked(dir);
  }
  return null;
}

/** A CUDA backend linked with its runtime, shipped separately, tried when the plain one finds no GPU. */
function cudaFallbackFiles(): string[] {
  const dir = prebuiltBinsDir(platformPackage('cuda'));
  if (!dir) return [];
  const ext = join(dir, '..', '..', '..', `${basename(dir)}-ext`, 'bins', basename(dir), 'fallback');
  const file = join(ext, process.platform === 'win32' ? 'ggml-cuda.dll' : 'libggml-cuda.so');
  return existsSync(file) ? [file] : [];
}

/** The variant BGE_GGUF_NATIVE_ADDON names, or the file it points at. */
function forcedAddon(): { variant: NativeVariant; file: string } | null {
  const value = process.env.BGE_GGUF_NATIVE_ADDON;
  if (!value) return null;
  if (value in FILES) return { variant: value as NativeVariant, file: addonPath(value as NativeVariant) };
  const file = resolve(value);
  const entry = Object.entries(FILES).find(([, name]) => name === basename(file));
  return { variant: (entry?.[0] as NativeVariant | undefined) ?? 'cpu', file };
}

const loaded = new Map<string, LoadedAddon>();
const failures = new Map<string, string>();

/** Loads (once) the addon file of a variant; throws an Error whose message says why it cannot. */
export function loadAddon(variant: NativeVariant, file = addonPath(variant)): LoadedAddon {
  const cached = loaded.get(file);
  if (cached) return cached;
  const failed = failures.get(file);
  if (failed) throw new Error(failed);
  try {
    if (!existsSync(file)) {
      throw new Error(`no ${FILES[variant]} for ${process.platform}-${process.arch} (looked in ${addonDirs().join(', ')})`);
    }
    const dir = dirname(file);
    const requireNative = createRequire(join(dir, 'package.json'));
    const entry = readManifest(dir)[basename(file)];
    const libsDir = prebuiltBinsDir(entry?.package ?? platformPackage(variant));
    if (entry && entry.libs.length > 0) {
      if (!libsDir) throw new Error(`node-llama-cpp's @node-llama-cpp/${entry.package} package is not installed (it holds the llama.cpp libraries)`);
      const loader = requireNative(join(dir, LOADER)) as { preload(paths: string[]): void };
      loader.preload(entry.libs.map((lib) => join(libsDir, lib)));
    }
    const addon = requireNative(file) as NativeAddon;
    if (addon.dynamicBackends && !libsDir) throw new Error(`cannot find the llama.cpp libraries of the ${variant} addon`);
    addon.init({ backendsDir: libsDir ?? undefined, fallbackBackendFiles: variant === 'cuda' ? cudaFallbackFiles() : [] });
    const result = { variant, file, addon, libsDir };
    loaded.set(file, result);
    return result;
  } catch (error) {
    const message = `cannot load the ${variant} native addon: ${(error as Error).message.split('\n')[0]}`;
    failures.set(file, message);
    throw new Error(message);
  }
}

/** Whether a variant's addon file exists (built or shipped), without loading it. */
export function isAddonBuilt(variant: NativeVariant): boolean {
  return existsSync(addonPath(variant));
}

/**
 * The CPU addon: BGE_GGUF_NATIVE_ADDON if set, else `preferred` ('source': the from-source build,
 * when it loads; see cpuLibrary.ts), else the one linked to node-llama-cpp's prebuilt libraries,
 * which is what every install builds and what CI tests.
 */
export function loadCpuAddon(preferred: 'cpu' | 'source' = 'cpu'): LoadedAddon {
  const forced = forcedAddon();
  if (forced) return loadAddon(forced.variant, forced.file);
  if (preferred === 'source') {
    try {
      return loadAddon('source');
    } catch {
      // not loadable here: the prebuilt one runs every model
    }
  }
  return loadAddon('cpu');
}

/** True when the loaded addon sees a GPU (or integrated GPU) device. */
export function hasGpuDevice(loadedAddon: LoadedAddon): boolean {
  return loadedAddon.addon.devices().some((d) => d.type === 'gpu' || d.type === 'igpu');
}
