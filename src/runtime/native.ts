/**
 * The native engine: our addon over llama.cpp's C API. Many sequences per llama_decode,
 * pooling chosen per call (one llama context per pooling mode, created on first use).
 */
import { basename } from 'node:path';
import { BgeGgufError, CorruptModelError, DisposedError, InvalidInputError, ModelNotFoundError } from '../errors.js';
import {
  hasGpuDevice,
  isAddonBuilt,
  loadAddon,
  loadCpuAddon,
  type LoadedAddon,
  type NativeAddon,
  type NativeContext,
  type NativeModel,
  type NativeModelInfo,
} from './nativeBinding.js';
import { preferredCpuVariant } from './cpuLibrary.js';
import { resolveThreads } from './threads.js';
import { ThreadTuner } from './threadTuner.js';
import type { GgufFile } from '../gguf/types.js';
import { POOLINGS, poolingFromGguf, type Engine, type EngineOptions, type GpuOption, type ModelInfo, type Pooling, type TokenizeOptions } from './types.js';

/**
 * Micro-batch token budget of one decode when the caller gives none. A non-causal decode attends
 * across the whole micro-batch (flash attention skips masked 64×64 tiles, but still reads the mask
 * of every tile per head), so packing more short texts into one decode stops paying once the
 * matrix products are large enough. Measured, 2 threads, real all-MiniLM-L6-v2 (Intel Xeon, AMX),
 * texts/s by budget 128/256/512: 11-token queries F16 507/525/473, Q8_0 924/959/789; 49-token
 * passages F16 106/111/110, Q8_0 172/182/176. An earlier bge-small-shaped F16 run (tokens/s by
 * 128/256/512) agreed: 8-token sequences 2851/3283/3148, 100-token 2647/2830/2836. A longer single
 * sequence still gets a context of its own size (up to the training length).
 */
export const DEFAULT_BATCH_TOKENS = 256;
/** llama.cpp's limit on sequences in one decode (LLAMA_MAX_SEQ). */
export const MAX_SEQUENCES = 256;
/** Longest single sequence a context is sized for when the model was trained on longer ones. */
export const MAX_SEQUENCE_TOKENS = 8192;

let lastLoadError: string | null = null;

/** True when the CPU addon loads (built and linkable). */
export function isNativeAvailable(): boolean {
  try {
    loadCpuAddon();
    lastLoadError = null;
    return true;
  } catch (error) {
    lastLoadError = (error as Error).message;
    return false;
  }
}

/** Why the CPU addon did not load (after isNativeAvailable() returned false). */
export function nativeLoadError(): string | null {
  return lastLoadError;
}

function unavailable(message: string): BgeGgufError {
  return new BgeGgufError('NATIVE_UNAVAILABLE', message);
}

/** Picks the addon for the gpu option; returns it with the llama.cpp gpuLayers to load with. */
function chooseAddon(gpu: GpuOption, cpuVariant: 'cpu' | 'source'): { loaded: LoadedAddon; gpuLayers: number } {
  const cpu = () => {
    try {
      return { loaded: loadCpuAddon(cpuVariant), gpuLayers: 0 };
    } catch (error) {
      throw unavailable((error as Error).message);
    }
  };
  if (gpu === false) return cpu();
  if (gpu === 'metal') {
    if (process.platform !== 'darwin') throw unavailable(`gpu: 'metal' is only available on macOS; use 'auto', 'cuda', 'vulkan' or false`);
    const chosen = cpu(); // node-llama-cpp's macOS arm64 libraries include Metal
    if (!hasGpuDevice(chosen.loaded)) throw unavailable('gpu: no Metal device found');
    return { loaded: chosen.loaded, gpuLayers: -1 };
  }
  if (gpu === 'cuda' || gpu === 'vulkan') {
    let loaded: LoadedAddon;
    try {
      loaded = loadAddon(gpu);
    } catch (error) {
      throw unavailable(`gpu: '${gpu}' requested but ${(error as Error).message}`);
    }
    if (!hasGpuDevice(loaded)) throw unavailable(`gpu: '${gpu}' requested but llama.cpp's ${gpu} backend finds no usable device (driver missing?)`);
    return { loaded, gpuLayers: -1 };
  }
  if (gpu !== 'auto') throw new InvalidInputError(`gpu must be 'auto', false, 'cuda', 'vulkan' or 'metal', got ${String(gpu)}`);
  if (process.platform === 'darwin') {
    const chosen = cpu();
    return { loaded: chosen.loaded, gpuLayers: hasGpuDevice(chosen.loaded) ? -1 : 0 };
  }
  for (const variant of ['cuda', 'vulkan'] as const) {
    if (!isAddonBuilt(variant) || process.env.BGE_GGUF_NATIVE_ADDON) continue;
    try {
      const loaded = loadAddon(variant);
      if (hasGpuDevice(loaded)) return { loaded, gpuLayers: -1 };
    } catch {
      // not loadable here: try the next one
    }
  }
  return cpu();
}

/** Native error (with a `code` property) → the library's typed error. */
function typedError(error: unknown, what: string): BgeGgufError {
  if (error instanceof BgeGgufError) return error;
  const code = (error as { code?: string })?.code;
  const message = (error as Error)?.message ?? String(error);
  switch (code) {
    case 'INVALID_INPUT':
      return new InvalidInputError(message);
    case 'DISPOSED':
      return new DisposedError(what);
    case 'CANCELLED':
      return new BgeGgufError('CANCELLED', 'encoding was cancelled by its AbortSignal');
    case 'MODEL_NOT_FOUND':
      return new ModelNotFoundError(message);
    case 'MODEL_LOAD_FAILED':
      return new BgeGgufError('MODEL_LOAD_FAILED', message);
    default:
      return new BgeGgufError('ENCODE_FAILED', message, { cause: error });
  }
}

function toModelInfo(raw: NativeModelInfo, path: string): ModelInfo {
  // BERT vocabularies append [SEP] as their "separator"; report it as the end token.
  const eos = raw.eos >= 0 ? raw.eos : raw.addSep && raw.sep >= 0 ? raw.sep : -1;
  return {
    arch: raw.arch,
    embeddingDim: raw.nEmbd,
    trainContextLength: raw.nCtxTrain,
    ggufPooling: poolingFromGguf(raw.poolingType),
    causal: raw.causal,
    bosId: raw.bos >= 0 ? raw.bos : null,
    eosId: eos >= 0 ? eos : null,
    addBos: raw.addBos,
    addEos: raw.addEos || (raw.addSep && raw.sep >= 0),
    vocabSize: raw.nVocab,
    name: raw.name || basename(path),
    file: basename(path),
  };
}

function positiveInt(value: number | undefined, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new InvalidInputError(`${name} must be an integer in 1..${max}, got ${value}`);
  return value;
}

export type KernelIsa = ReturnType<NativeAddon['cpuKernels']>['isa'];

/**
 * CPU decodes shorter than this get plain attention instead of flash attention, by the kernel that
 * runs flash attention (2 threads, an AMX Xeon, F16 and Q8_0 alike):
 * - llama.cpp's own ('ggml': no AVX2, or BGE_GGUF_CPU_KERNELS=ggml) has a tiled kernel only from 64
 *   query rows (GGML_FA_TILE_Q) and works row by row below, about 2× slower than plain attention
 *   at 20–56 tokens;
 * - the addon's (native/kernels) is as fast as plain attention at 16 tokens and faster above (at
 *   24: 3.0 vs 3.4 ms Q8_0); below, the graph splits it adds cost more than attention itself (at 9:
 *   2.1 vs 1.7 ms). `node bench/real/attention.mjs <gguf>` measures both.
 * Plain attention also keeps K and V in F32.
 */
export function plainAttentionBelow(kernel: KernelIsa): number {
  return kernel === 'ggml' ? 64 : 16;
}

type CreateContext = (capacity: number, flashAttention: boolean | undefined) => NativeContext;

/** Threads for one decode: taken when it starts, told how long it took. */
interface DecodeThreads {
  take(tokens: number): number;
  done(tokens: number, threads: number, ms: number): void;
}

/**
 * A decode lane for one pooling mode; its encode calls run one at a time. It holds up to two llama
 * contexts, each created on first use: one for decodes under `plainBelow` tokens with plain
 * attention (0: none), and one for the rest, which starts at the micro-batch budget
 * and is re-created larger (up to `maxCapacity`) when a longer single sequence arrives, so memory
 * follows the longest input actually seen (an ICL query with its examples), not the model's
 * training length.
 */
class Lane {
  private tail: Promise<unknown> = Promise.resolve();
  private small: NativeContext | null = null;
  private large: NativeContext | null = null;
  /** Contexts that have decoded once. */
  private readonly warm = new WeakSet<NativeContext>();
  /** Encode calls queued or running here (the engine sends new work to the least loaded lane). */
  load = 0;

  constructor(
    private readonly create: CreateContext,
    private capacity: number,
    private readonly maxCapacity: number,
    private readonly flashAttention: boolean | undefined,
    private readonly plainBelow: number,
  ) {}

  /** The thread count is taken when the decode starts, so it sees every call made in the same tick. */
  encode(sequences: Int32Array[], signal: AbortSignal | undefined, threads: DecodeThreads): Promise<Float32Array> {
    const run = async (): Promise<Float32Array> => {
      if (signal?.aborted) throw new BgeGgufError('CANCELLED', 'encoding was cancelled by its AbortSignal');
      const tokens = sequences.reduce((sum, s) => sum + (s?.length ?? 0), 0);
      const context = this.contextFor(tokens);
      const onAbort = () => context.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const count = threads.take(tokens);
        const started = performance.now();
        const output = await context.encode(sequences, count);
        // a context's first decode also allocates and first-touches its buffers: not a timing of the thread count
        if (this.warm.has(context)) threads.done(tokens, count, performance.now() - started);
        this.warm.add(context);
        return output;
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    };
    this.load++;
    const result = this.tail.then(run, run).finally(() => this.load--);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Creates the first context now (errors surface at load rather than at the first encode). */
  open(): void {
    this.large ??= this.create(this.capacity, this.flashAttention);
  }

  dispose(): void {
    this.small?.dispose();
    this.large?.dispose();
    this.small = this.large = null;
  }

  private contextFor(tokens: number): NativeContext {
    if (tokens < this.plainBelow) {
      return (this.small ??= this.create(this.plainBelow - 1, false));
    }
    this.fit(tokens);
    return (this.large ??= this.create(this.capacity, this.flashAttention));
  }

  /** Grows the large context (next power of two) when this decode needs more tokens than it holds. */
  private fit(tokens: number): void {
    if (tokens <= this.capacity || this.capacity >= this.maxCapacity) return; // the addon rejects what does not fit
    let capacity = this.capacity;
    while (capacity < tokens) capacity *= 2;
    capacity = Math.min(capacity, this.maxCapacity);
    const next = this.create(capacity, this.flashAttention);
    this.large?.dispose();
    this.large = next;
    this.capacity = capacity;
  }
}

export interface NativeEngineOptions extends EngineOptions {
  /** Create the first context for this pooling mode right away (later modes are created on first use). */
  pooling?: Pooling;
}

/** `gguf`: the file's header when the caller has already read it (spares a second read). */
export async function createNativeEngine(path: string, options: NativeEngineOptions = {}, gguf?: GgufFile): Promise<Engine> {
  if (typeof path !== 'string' || path.length === 0) throw new InvalidInputError('model path must be a non-empty string');
  const threads = resolveThreads(options.threads === undefined ? undefined : positiveInt(options.threads, 'threads', 1, 1024));
  const batchTokens = positiveInt(options.batchTokens, 'batchTokens', DEFAULT_BATCH_TOKENS, 1 << 20);
  const maxSequences = positiveInt(options.maxSequences, 'maxSequences', MAX_SEQUENCES, MAX_SEQUENCES);
  // checked against the threads asked for; then at most one lane per thread actually used
  positiveInt(options.parallelDecodes, 'parallelDecodes', 1, Math.max(threads, options.threads ?? 0));
  const { loaded, gpuLayers } = chooseAddon(options.gpu ?? 'auto', await preferredCpuVariant(path, gguf));

  let model: NativeModel;
  try {
    model = await loaded.addon.loadModel(path, { gpuLayers, useMmap: options.useMmap ?? true });
  } catch (error) {
    throw typedError(error, 'this model');
  }
  const info = toModelInfo(model.info(), path);
  const invariant = options.batchInvariant === true;
  // Causal models (ICL, 7B) keep one lane: each context holds a KV cache, and their large matrices
  // already keep all threads busy. GPU decodes are not split across threads either.
  const lanes = Math.min(threads, options.parallelDecodes ?? (info.causal || gpuLayers !== 0 || threads < 2 ? 1 : 2));
  const laneThreads = Math.max(1, Math.floor(threads / lanes));
  // Contexts start at the micro-batch budget and grow for one long sequence, up to the training length.
  const maxCapacity = Math.max(batchTokens, Math.min(info.trainContextLength || batchTokens, MAX_SEQUENCE_TOKENS));
  const contexts = new Map<Pooling, Lane[]>();
  const plainBelow = options.flashAttention === undefined && gpuLayers === 0 ? plainAttentionBelow(loaded.addon.cpuKernels().isa) : 0;
  let disposed = false;

  const newLane = (pooling: Pooling): Lane => {
    const create: CreateContext = (capacity, flashAttention) => {
      try {
        return model.createContext({
          pooling,
          nBatch: capacity,
          nSeqMax: Math.min(maxSequences, capacity),
          threads,
          ...(flashAttention === undefined ? {} : { flashAttention }),
        });
      } catch (error) {
        throw typedError(error, 'this model');
      }
    };
    return new Lane(create, Math.min(batchTokens, maxCapacity), maxCapacity, options.flashAttention, plainBelow);
  };
  /** An idle lane for this pooling mode; a new one (memory only when work overlaps) up to `lanes`; else the least loaded. */
  const laneFor = (pooling: Pooling): Lane => {
    let group = contexts.get(pooling);
    if (!group) contexts.set(pooling, (group = [newLane(pooling)]));
    const idle = group.find((lane) => lane.load === 0);
    if (idle) return idle;
    if (group.length < lanes) {
      const lane = newLane(pooling);
      group.push(lane);
      return lane;
    }
    return group.reduce((best, lane) => (lane.load < best.load ? lane : best));
  };
  // A decode that starts while other calls are queued or running (any lane, any pooling) gets its
  // lane's share of the threads; alone, what the tuner has found fastest for its size here.
  const overlapping = () => {
    let calls = 0;
    for (const group of contexts.values()) for (const lane of group) calls += lane.load;
    return calls > 1;
  };
  const tuner = new ThreadTuner(threads);
  const threadsNow = () => (overlapping() ? laneThreads : threads);
  const decodeThreads: DecodeThreads = {
    take: (tokens) => (overlapping() ? laneThreads : tuner.choose(tokens)),
    done: (tokens, count, ms) => {
      if (!overlapping()) tuner.record(tokens, count, ms);
    },
  };
  const check = () => {
    if (disposed) throw new DisposedError('this model');
  };
  if (options.pooling) laneFor(options.pooling).open();

  return {
    kind: 'native',
    info,
    // batchInvariant: one sequence per decode, so the planner sends singletons across the lanes.
    limits: { batchTokens, maxSequences: invariant ? 1 : maxSequences, parallelDecodes: lanes },

    tokenize(text: string, opts: TokenizeOptions): Int32Array {
      check();
      if (typeof text !== 'string') throw new InvalidInputError(`tokenize: expected a string, got ${text === null ? 'null' : typeof text}`);
      try {
        return model.tokenize(text, opts?.addSpecial ?? false, opts?.parseSpecial ?? false);
      } catch (error) {
        // llama.cpp's UGM tokenizer checks the charsmap only as it walks it, on the text at hand
        const message = (error as Error)?.message ?? '';
        if (!(error as { code?: string })?.code && /charsmap|XCDA/.test(message)) {
          throw new CorruptModelError(path, 'tokenizer.ggml.precompiled_charsmap', `makes llama.cpp's tokenizer fail (${message})`);
        }
        throw typedError(error, 'this model');
      }
    },

    detokenize(tokens: ArrayLike<number>): string {
      check();
      const ids = tokens instanceof Int32Array ? tokens : Array.from(tokens ?? [], (t) => t);
      try {
        return model.detokenize(ids);
      } catch (error) {
        throw typedError(error, 'this model');
      }
    },

    async encodeBatch(sequences: Int32Array[], pooling: Pooling, signal?: AbortSignal): Promise<Float32Array[]> {
      check();
      if (!POOLINGS.includes(pooling)) {
        throw new InvalidInputError(`pooling must be one of ${POOLINGS.map((p) => `'${p}'`).join(', ')}, got ${String(pooling)}`);
      }
      if (!Array.isArray(sequences)) throw new InvalidInputError('encodeBatch: sequences must be an array of Int32Array');
      if (signal?.aborted) throw new BgeGgufError('CANCELLED', 'encoding was cancelled by its AbortSignal');
      if (sequences.length === 0) return [];
      if (sequences.length > maxSequences) {
        throw new InvalidInputError(`${sequences.length} sequences exceed the limit of ${maxSequences} per batch`);
      }
      try {
        if (invariant) {
          // Each sequence is a decode of its own tokens only, decodes side by side on the lanes. The
          // thread count may still vary: ggml computes each output element on one thread with the same
          // kernel whatever the count (tested for F32/F16/Q8_0 in test/batch-invariant.test.ts).
          return await Promise.all(sequences.map((sequence) => laneFor(pooling).encode([sequence], signal, decodeThreads)));
        }
        const flat = await laneFor(pooling).encode(sequences, signal, decodeThreads);
        if (pooling === 'none') return tokenStatesPerSequence(flat, sequences, info.embeddingDim);
        const dim = flat.length / sequences.length; // 'rank' gives the classifier's outputs, not embeddingDim values
        return sequences.map((_, i) => flat.slice(i * dim, (i + 1) * dim));
      } catch (error) {
        throw typedError(error, 'this model');
      }
    },

    ...(typeof loaded.addon.applyLinear === 'function'
      ? {
          async applyLinear(rows: Float32Array, count: number, head: { weight: Float32Array; bias: Float32Array }): Promise<Float32Array> {
            check();
            try {
              return await loaded.addon.applyLinear!(rows, count, head.weight, head.bias, threadsNow());
            } catch (error) {
              throw typedError(error, 'this model');
            }
          },
        }
      : {}),

    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      for (const group of contexts.values()) for (const lane of group) lane.dispose();
      contexts.clear();
      model.dispose();
    },
  };
}

/** Pooling none: views (no copies) of each sequence's rows in the decode's token states. */
function tokenStatesPerSequence(flat: Float32Array, sequences: Int32Array[], dim: number): Float32Array[] {
  let offset = 0;
  return sequences.map((sequence) => {
    const rows = flat.subarray(offset, offset + sequence.length * dim);
    offset += sequence.length * dim;
    return rows;
  });
}
