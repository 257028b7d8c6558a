import { InvalidInputError } from '../errors.js';
import type { EngineChoice } from '../runtime/load.js';
import type { EngineOptions } from '../runtime/types.js';

/** Options every embedder shares (FlagEmbedding's AbsEmbedder, camelCase). */
export interface BaseEmbedderOptions extends EngineOptions {
  /** L2-normalize every vector (default true). */
  normalizeEmbeddings?: boolean;
  /** Instruction put in front of queries by encodeQueries. */
  queryInstructionForRetrieval?: string | null;
  /** Python-style format with two `{}` fields: instruction, then query. */
  queryInstructionFormat?: string;
  /** Most texts in one decode (default 256). */
  batchSize?: number;
  queryMaxLength?: number; // default 512
  passageMaxLength?: number; // default 512
  /** Keep only the first N dimensions (then normalize). */
  truncateDim?: number | null;
  /** Which engine runs llama.cpp (default 'auto': native addon, else node-llama-cpp). */
  engine?: EngineChoice;
}

/** Per-call options of encode / encodeQueries / encodeCorpus. */
export interface EncodeCallOptions {
  batchSize?: number;
  maxLength?: number;
  /** encode() only: instruction and format to apply to every text. */
  instruction?: string | null;
  instructionFormat?: string;
  signal?: AbortSignal;
  /** Called with {done: 0} once the texts are tokenized, then after every batch the engine finishes. */
  onProgress?: (progress: EncodeProgress) => void;
}

/** What onProgress reports: texts embedded so far of `total`, and their tokens (special tokens included). */
export interface EncodeProgress {
  done: number;
  total: number;
  tokens: number;
  totalTokens: number;
  /** Tokens of each text as embedded (after truncation, special tokens included), in input order. */
  tokenCounts: readonly number[];
}

/** Options of encodeTokenIds: token ids in, vectors out. */
export interface TokenIdsCallOptions {
  /** Longest sequence, special tokens included (default passageMaxLength); longer content is cut. */
  maxLength?: number;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (progress: EncodeProgress) => void;
}

/** Options of encodeBatches: which encode method runs on each batch, and how many texts per batch. */
export interface EncodeBatchesOptions {
  /** Texts per yielded batch (default: the model's batchSize). */
  batchSize?: number;
  /** 'corpus' (encodeCorpus, default), 'queries' (encodeQueries) or 'plain' (encode). */
  kind?: 'corpus' | 'queries' | 'plain';
  signal?: AbortSignal;
}

export function positiveInt(name: string, value: number | undefined | null, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new InvalidInputError(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

export function oneOf<T extends string>(name: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) throw new InvalidInputError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  return value;
}

/** Texts as FlagEmbedding takes them: one string or a list of strings. */
export function textList(input: unknown, where: string): string[] {
  const list = Array.isArray(input) ? input : [input];
  list.forEach((t, i) => {
    if (typeof t !== 'string') {
      throw new InvalidInputError(`${where}: expected a string or an array of strings, but item ${i} is ${t === null ? 'null' : typeof t}`);
    }
  });
  return list as string[];
}

/** What encode* returns: one vector for one string, a list for a list. */
export type Encoded<T> = T extends string ? Float32Array : Float32Array[];

export function asEncoded<T extends string | string[]>(input: T, vectors: Float32Array[]): Encoded<T> {
  return (Array.isArray(input) ? vectors : vectors[0]) as Encoded<T>;
}
