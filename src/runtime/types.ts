/**
 * The one seam between the API layer and llama.cpp. Two engines implement it:
 * `native` (our addon, multi-sequence batches) and `node-llama-cpp` (fallback).
 */
/**
 * How a decode turns token states into one result per sequence. 'rank': the model's classifier
 * head (cross-encoder rerankers) on the first token, one score per classifier output. 'none': no
 * pooling, every token's last hidden state (BGE-M3's sparse and ColBERT heads need them).
 */
export type Pooling = 'cls' | 'mean' | 'last' | 'rank' | 'none';

export const POOLINGS: readonly Pooling[] = ['cls', 'mean', 'last', 'rank', 'none'];

/** GGUF `{arch}.pooling_type` (llama.cpp's enum llama_pooling_type) → our name; null for none/other. */
export function poolingFromGguf(value: unknown): Exclude<Pooling, 'none'> | null {
  return ({ 1: 'mean', 2: 'cls', 3: 'last', 4: 'rank' } as Record<number, Exclude<Pooling, 'none'>>)[Number(value)] ?? null;
}
export type GpuOption = 'auto' | false | 'cuda' | 'metal' | 'vulkan';

export interface ModelInfo {
  /** general.architecture, e.g. "bert", "llama". */
  arch: string;
  /** Hidden size (n_embd) = length of every vector the engine returns. */
  embeddingDim: number;
  /** {arch}.context_length: the longest sequence the model was trained on. */
  trainContextLength: number;
  /** {arch}.pooling_type from the GGUF, mapped; null when absent or NONE. */
  ggufPooling: Pooling | null;
  /** Decoder models attend causally (llama arch); encoders (bert) do not. */
  causal: boolean;
  bosId: number | null; // [CLS] for BERT, <s> for llama
  eosId: number | null; // [SEP] for BERT, </s> for llama
  addBos: boolean;
  addEos: boolean;
  /** Size of the vocabulary; valid token ids are 0..vocabSize-1. */
  vocabSize: number;
  /** general.name or file basename, for messages. */
  name: string;
  /** The GGUF's file name (no directory), for messages. */
  file?: string;
}

export interface EngineOptions {
  threads?: number; // default: the cores this process can use (affinity and cgroup quota); more are clamped with a warning
  gpu?: GpuOption; // default 'auto' (CPU where no GPU backend is present)
  useMmap?: boolean; // default true
  /** Largest number of tokens in one decode (micro-batch). */
  batchTokens?: number;
  /** Largest number of sequences in one decode. */
  maxSequences?: number;
  /**
   * llama.cpp flash attention for every decode (native engine). Default: on the CPU, plain attention
   * for decodes under 64 tokens (ggml's flash attention is row by row there, and rounds K/V to F16)
   * and flash attention for longer ones; on a GPU, llama.cpp's choice. `false` everywhere is closest
   * to float32 but materializes the attention matrix: heads × n² floats (16 × 8192² × 4 bytes = 4 GiB
   * for bge-m3 at 8k tokens).
   */
  flashAttention?: boolean;
  /**
   * Make every text's vector independent of what it is batched with, bit for bit (default false):
   * each sequence is decoded on its own (decodes still run side by side on the lanes). By default
   * llama.cpp picks kernels (attention, matrix products, quantized activations, mean pooling) by
   * the decode's size, which moves vectors slightly (see README, Batching and exactness).
   */
  batchInvariant?: boolean;
  /**
   * Decodes run side by side, each on its share of the threads (native engine, encoder models).
   * Default 2 when threads >= 2 and the model is not causal, else 1. On small encoders this beats
   * one decode on all threads (fewer thread barriers per layer); a lone decode still gets every thread.
   */
  parallelDecodes?: number;
}

export interface TokenizeOptions {
  /** Add the model's special tokens ([CLS]/[SEP] or <s>/</s> as the GGUF says). */
  addSpecial: boolean;
  /** Parse "<s>", "[SEP]" etc. written in the text as special tokens. */
  parseSpecial?: boolean;
  /** Only the first this many content tokens are needed (an engine may stop there; the ids it returns are unchanged). */
  maxTokens?: number;
}

export interface Engine {
  readonly kind: 'native' | 'node-llama-cpp';
  readonly info: ModelInfo;
  /** Limits of one encodeBatch call, and how many calls the engine runs at once. */
  readonly limits: { batchTokens: number; maxSequences: number; parallelDecodes: number };
  tokenize(text: string, options: TokenizeOptions): Int32Array;
  detokenize(tokens: ArrayLike<number>): string;
  /**
   * Runs one micro-batch: every sequence in one llama.cpp decode where the engine can.
   * Returns one pooled, un-normalized vector per sequence, in the order given ('rank': the
   * classifier's raw scores, logits, one array of its outputs per sequence; 'none': the sequence's
   * token states, length × embeddingDim row after row, possibly views of one shared buffer).
   * Sum of lengths must be <= limits.batchTokens and count <= limits.maxSequences; a group of one
   * sequence may be longer than batchTokens, up to the model's training length.
   */
  encodeBatch(sequences: Int32Array[], pooling: Pooling, signal?: AbortSignal): Promise<Float32Array[]>;
  /**
   * rows (count × in, row-major) · weightᵀ + bias, weight as torch stores it (out × in), off the JS
   * thread (native engine: BGE-M3's heads on per-token states). Absent: callers use src/heads' loop.
   */
  applyLinear?(rows: Float32Array, count: number, head: { weight: Float32Array; bias: Float32Array }): Promise<Float32Array>;
  dispose(): Promise<void>;
}
