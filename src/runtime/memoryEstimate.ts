import { totalmem } from 'node:os';
import { BgeGgufError } from '../errors.js';
import type { GgufFile } from '../gguf/types.js';
import { DEFAULT_BATCH_TOKENS, MAX_SEQUENCE_TOKENS } from './native.js';

/** Architectures llama.cpp runs without a KV cache (bidirectional encoders). */
const ENCODERS = new Set(['bert', 'nomic-bert', 'nomic-bert-moe', 'jina-bert-v2', 'jina-bert-v3', 'modern-bert', 'neo-bert', 't5encoder', 'xlm-roberta']);

export interface MemoryEstimate {
  /** Tokens of the largest decode one context is sized for. */
  tokens: number;
  /** Attention mask of that decode (F16 with flash attention: tokens × kv positions × 2 bytes). */
  maskBytes: number;
  /** KV cache (causal models only). */
  kvBytes: number;
  /** Activations of one layer kept alive at once (hidden states, FFN, Q/K/V) in F32. */
  activationBytes: number;
  totalBytes: number;
}

function numberOf(gguf: GgufFile, key: string): number | undefined {
  const value = gguf.metadata.get(key)?.value;
  const n = Array.isArray(value) ? Number(value[0]) : Number(value);
  return value === undefined || !Number.isFinite(n) ? undefined : n;
}

/**
 * The memory one llama.cpp context needs for decodes of up to `batchTokens` tokens, from the
 * GGUF hyper-parameters alone (before anything is allocated). For all-MiniLM-L6-v2 it is within
 * 10% of the compute buffer llama.cpp reports (80/224/704 MiB estimated vs 74/212/680 MiB at
 * 4096/8192/16384 tokens). It counts flash attention's F16 mask and one context (parallel lanes
 * add one each), no weights, so it never overstates by much what a setting costs.
 */
export function estimateContextMemory(gguf: GgufFile, batchTokens: number): MemoryEstimate {
  const arch = String(gguf.metadata.get('general.architecture')?.value ?? '');
  const hp = (name: string, fallback: number) => numberOf(gguf, `${arch}.${name}`) ?? fallback;
  const embd = hp('embedding_length', 0);
  const layers = hp('block_count', 0);
  const ffn = hp('feed_forward_length', 4 * embd);
  const heads = Math.max(1, hp('attention.head_count', 1));
  const kvHeads = hp('attention.head_count_kv', heads);
  const train = hp('context_length', 0);
  const causalFlag = gguf.metadata.get(`${arch}.attention.causal`)?.value;
  const causal = causalFlag === undefined ? !ENCODERS.has(arch) : Boolean(causalFlag);
  // Contexts grow for one long sequence up to the training length (capped); see runtime/native.ts.
  const tokens = Math.max(batchTokens, Math.min(train || batchTokens, MAX_SEQUENCE_TOKENS));
  const kvPositions = tokens; // encoders: the batch itself; causal: n_ctx = the capacity
  const maskBytes = tokens * kvPositions * 2;
  const kvBytes = causal ? 2 * layers * tokens * (embd / heads) * kvHeads * 2 : 0;
  const activationBytes = tokens * (4 * embd + ffn) * 4;
  return { tokens, maskBytes, kvBytes, activationBytes, totalBytes: maskBytes + kvBytes + activationBytes };
}

function gigabytes(bytes: number): string {
  return `${(bytes / 1e9).toFixed(bytes < 1e10 ? 1 : 0)} GB`;
}

/**
 * Refuses a batchTokens whose context could never fit in this machine's memory, with a typed
 * OUT_OF_MEMORY at load instead of a failed allocation at the first encode.
 */
export function assertContextFits(gguf: GgufFile, batchTokens: number | undefined, available: number = totalmem()): void {
  if (batchTokens === undefined || batchTokens <= DEFAULT_BATCH_TOKENS) return;
  const estimate = estimateContextMemory(gguf, batchTokens);
  if (estimate.totalBytes <= available) return;
  const fits = largestFittingBatch(gguf, available);
  throw new BgeGgufError(
    'OUT_OF_MEMORY',
    `batchTokens ${batchTokens} needs at least ${gigabytes(estimate.totalBytes)} per context (attention mask ${gigabytes(estimate.maskBytes)}` +
      `${estimate.kvBytes ? `, KV cache ${gigabytes(estimate.kvBytes)}` : ''}, activations ${gigabytes(estimate.activationBytes)}), ` +
      `more than this machine's ${gigabytes(available)}; use a smaller batchTokens (at most ~${fits}; the default ${DEFAULT_BATCH_TOKENS} is as fast on CPU)`,
  );
}

function largestFittingBatch(gguf: GgufFile, available: number): number {
  let low = DEFAULT_BATCH_TOKENS;
  let high = 1 << 20;
  while (high - low > 1) {
    const mid = (low + high) >>> 1;
    if (estimateContextMemory(gguf, mid).totalBytes <= available) low = mid;
    else high = mid;
  }
  return low;
}
