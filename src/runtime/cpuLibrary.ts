/**
 * Which CPU build of llama.cpp runs a model when both exist: node-llama-cpp's prebuilt libraries
 * ('cpu', always there) or llama.cpp compiled on this machine ('source', opt-in:
 * `node scripts/build-native.mjs --from-source`). Which one is faster depends on the CPU and the
 * weight type (on an AMX Xeon the prebuilt one won Q8_0 and lost F32; on an AVX-512 EPYC the
 * source build won every type), so it is measured: the first model of each weight type is
 * encoded by both builds once, and the winner is cached per CPU model and library versions in
 * <cache dir>/cpu-builds.json.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { arch, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { readGguf } from '../gguf/reader.js';
import { GgmlType, type GgufFile, type GgufTensorInfo } from '../gguf/types.js';
import { cacheDir, packageRoot } from '../models/paths.js';
import { isAddonBuilt, loadAddon, addonPath, type NativeVariant } from './nativeBinding.js';
import { resolveThreads } from './threads.js';

export type CpuBuild = 'cpu' | 'source';

export interface CpuBuildMeasurement {
  /** tokens/s of each build on the model it was measured with */
  tokensPerSecond: Partial<Record<CpuBuild, number>>;
  chosen: CpuBuild;
  model: string;
  measuredAt: string;
}

/** cpu-builds.json: key (CPU model + versions) → weight type → measurement. */
export type CpuBuildCache = Record<string, Record<string, CpuBuildMeasurement>>;

export function cpuBuildsFile(): string {
  return join(cacheDir(), 'cpu-builds.json');
}

/** The weight type holding most of a model's matrix parameters, e.g. 'F16', 'Q8_0'. */
export function weightTypeOf(tensors: readonly GgufTensorInfo[]): string {
  const totals = new Map<GgmlType, number>();
  for (const t of tensors) {
    if (t.shape.length < 2) continue;
    totals.set(t.type, (totals.get(t.type) ?? 0) + t.shape.reduce((a, b) => a * Number(b), 1));
  }
  const [top] = [...totals.entries()].sort((a, b) => b[1] - a[1]);
  return top ? (GgmlType[top[0]] ?? `type${top[0]}`) : 'none';
}

/** What a measurement is valid for: this CPU model, llama.cpp release and both builds' files. */
export function cpuBuildsKey(): string {
  const stamp = (variant: NativeVariant) => {
    try {
      const s = statSync(addonPath(variant));
      return `${s.size}@${Math.round(s.mtimeMs)}`;
    } catch {
      return 'none';
    }
  };
  const release = readJson(join(packageRoot(), 'native', 'include', 'RELEASE.json'))?.tag ?? 'unknown';
  return `${cpus()[0]?.model ?? 'unknown CPU'} (${arch()}) | llama.cpp ${release} | cpu ${stamp('cpu')} | source ${stamp('source')}`;
}

function readJson(path: string): any {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

export function readCpuBuildCache(file = cpuBuildsFile()): CpuBuildCache {
  const parsed = readJson(file);
  return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
}

export type MeasureFn = (path: string) => Promise<Partial<Record<CpuBuild, number>>>;

const inFlight = new Map<string, Promise<CpuBuild>>();

/**
 * The CPU build for a model: 'cpu' when the from-source build is not there (every default install)
 * or BGE_GGUF_NATIVE_ADDON forces an addon; else the faster one for its weight type, measured
 * once. `gguf`: the file's header when the caller has already read it.
 */
export async function preferredCpuVariant(
  path: string,
  gguf?: GgufFile,
  {
    measure = measureCpuBuilds,
    cacheFile = cpuBuildsFile(),
    sourceBuilt = isAddonBuilt('source'),
  }: { measure?: MeasureFn; cacheFile?: string; sourceBuilt?: boolean } = {},
): Promise<CpuBuild> {
  if (process.env.BGE_GGUF_NATIVE_ADDON || !sourceBuilt) return 'cpu';
  let type: string;
  try {
    type = weightTypeOf((gguf ?? (await readGguf(path))).tensors);
  } catch {
    return 'cpu'; // unreadable: llama.cpp's loader reports why
  }
  const key = cpuBuildsKey();
  const known = readCpuBuildCache(cacheFile)[key]?.[type];
  if (known) return known.chosen;
  const flightKey = `${cacheFile}\n${key}\n${type}`;
  let pending = inFlight.get(flightKey);
  if (!pending) {
    pending = measureAndRecord(path, type, key, measure, cacheFile);
    inFlight.set(flightKey, pending);
  }
  return pending;
}

async function measureAndRecord(path: string, type: string, key: string, measure: MeasureFn, cacheFile: string): Promise<CpuBuild> {
  let tokensPerSecond: Partial<Record<CpuBuild, number>>;
  console.warn(`bge-gguf: timing the prebuilt and the from-source llama.cpp builds on this CPU for ${type} weights (once; a few seconds on an idle machine; cached in ${cacheFile})`);
  try {
    tokensPerSecond = await measure(path);
  } catch {
    return 'cpu';
  }
  const chosen: CpuBuild = (tokensPerSecond.source ?? 0) > (tokensPerSecond.cpu ?? 0) ? 'source' : 'cpu';
  const cache = readCpuBuildCache(cacheFile);
  cache[key] = { ...cache[key], [type]: { tokensPerSecond, chosen, model: path, measuredAt: new Date().toISOString() } };
  try {
    mkdirSync(dirname(cacheFile), { recursive: true });
    writeFileSync(cacheFile, JSON.stringify(cache, null, 2) + '\n');
  } catch {
    // read-only cache dir: measured again next time
  }
  return chosen;
}

/**
 * tokens/s of each CPU build encoding the same fixed batch with this model (a build that fails to
 * load is left out). The builds take turns, best of several rounds each, so a load change on a
 * shared machine hits both alike.
 */
export async function measureCpuBuilds(path: string): Promise<Partial<Record<CpuBuild, number>>> {
  const bytes = existsSync(path) ? statSync(path).size : 0;
  // Enough work to dominate timer noise on a small encoder, little enough on a 7B decoder.
  const [sequences, length, rounds] = bytes < 300e6 ? [4, 64, 5] : bytes < 2e9 ? [2, 32, 3] : [1, 16, 1];
  const runners: Array<{ build: CpuBuild; run: () => Promise<unknown>; close: () => void; best: number }> = [];
  try {
    for (const build of ['cpu', 'source'] as const) {
      try {
        const { addon } = loadAddon(build);
        const model = await addon.loadModel(path, { gpuLayers: 0, useMmap: true });
        const info = model.info();
        let context;
        try {
          context = model.createContext({ pooling: info.causal ? 'last' : 'mean', nBatch: sequences * length, nSeqMax: sequences, threads: resolveThreads(undefined) });
        } catch (error) {
          model.dispose();
          throw error;
        }
        const batch = Array.from({ length: sequences }, (_, s) => Int32Array.from({ length }, (_, i) => (1000 + s * 131 + i * 7) % info.nVocab));
        const ctx = context;
        runners.push({ build, run: () => ctx.encode(batch), close: () => (ctx.dispose(), model.dispose()), best: Infinity });
      } catch {
        // not loadable here: the other build wins
      }
    }
    for (const runner of runners) await runner.run(); // warm-up: first touch of the weights, threadpool start
    for (let round = 0; round < rounds; round++) {
      for (const runner of runners) {
        const started = performance.now();
        await runner.run();
        runner.best = Math.min(runner.best, performance.now() - started);
      }
    }
    return Object.fromEntries(runners.map((r) => [r.build, (sequences * length * 1000) / r.best]));
  } finally {
    for (const runner of runners) runner.close();
  }
}
