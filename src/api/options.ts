import { InvalidInputError } from '../errors.js';
import type { DownloadProgress } from '../models/download.js';
import type { EngineChoice } from '../runtime/load.js';
import type { EngineOptions } from '../runtime/types.js';
import type { EncodeProgress } from '../batch/executor.js';
import type { FlagICLModelOptions } from './FlagICLModel.js';
import type { FlagModelOptions } from './FlagModel.js';
import type { FlagLLMModelOptions } from './FlagLLMModel.js';
import type { AutoModelOptions } from './FlagAutoModel.js';
import {
  arrayOf,
  checkOptions,
  isAbortSignal,
  isBoolean,
  isFunction,
  isPositiveInt,
  isPositiveNumber,
  isString,
  objectWith,
  oneOf as choice,
  orNull,
  type HasNoIndexSignature,
  type OptionSchema,
} from './validate.js';

export type { DownloadProgress } from '../models/download.js';

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
  /** Cancels an hf: download in progress (loading a local file is not interruptible). */
  signal?: AbortSignal;
  /** Called as an hf: download progresses. */
  onDownloadProgress?: (progress: DownloadProgress) => void;
  /** hf: downloads: longest wait for the hub's response (default 30000 ms). */
  downloadConnectTimeoutMs?: number;
  /** hf: downloads: longest pause between two chunks of data (default 60000 ms). */
  downloadIdleTimeoutMs?: number;
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

export type { EncodeProgress } from '../batch/executor.js';

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

// ---- Option schemas: one line per option (see DEVELOPERS.md, "Adding an option") ----

const instructionCheck = orNull(isString);

export const engineOptionsSchema: OptionSchema<EngineOptions> = {
  threads: isPositiveInt,
  gpu: choice('auto', false, 'cuda', 'metal', 'vulkan'),
  useMmap: isBoolean,
  batchTokens: isPositiveInt,
  maxSequences: isPositiveInt,
  batchInvariant: isBoolean,
  parallelDecodes: isPositiveInt,
  flashAttention: isBoolean,
};

export const baseEmbedderSchema: OptionSchema<BaseEmbedderOptions> = {
  ...engineOptionsSchema,
  normalizeEmbeddings: isBoolean,
  queryInstructionForRetrieval: instructionCheck,
  queryInstructionFormat: isString,
  batchSize: isPositiveInt,
  queryMaxLength: isPositiveInt,
  passageMaxLength: isPositiveInt,
  truncateDim: orNull(isPositiveInt),
  engine: choice('auto', 'native', 'node-llama-cpp'),
  signal: isAbortSignal,
  onDownloadProgress: isFunction,
  downloadConnectTimeoutMs: isPositiveNumber,
  downloadIdleTimeoutMs: isPositiveNumber,
};

export const flagModelSchema: OptionSchema<FlagModelOptions> = {
  ...baseEmbedderSchema,
  poolingMethod: choice('cls', 'mean'),
  passageInstructionForRetrieval: instructionCheck,
  passageInstructionFormat: isString,
};

const iclExample = objectWith({ instruct: instructionCheck, query: instructionCheck, response: instructionCheck });
export const iclExamplesCheck = orNull(arrayOf('{ instruct, query, response } examples', iclExample));

export const flagICLModelSchema: OptionSchema<FlagICLModelOptions> = {
  ...baseEmbedderSchema,
  examplesForTask: iclExamplesCheck,
  examplesInstructionFormat: isString,
  suffix: isString,
  passageInstructionForRetrieval: instructionCheck,
  passageInstructionFormat: isString,
};

export const flagLLMModelSchema: OptionSchema<FlagLLMModelOptions> = {
  ...baseEmbedderSchema,
  passageInstructionForRetrieval: instructionCheck,
  passageInstructionFormat: isString,
};

export const autoModelSchema: OptionSchema<AutoModelOptions> = {
  ...flagModelSchema,
  ...flagICLModelSchema,
  modelPath: isString,
  onFallback: isFunction,
};

export const encodeCallSchema: OptionSchema<EncodeCallOptions> = {
  batchSize: isPositiveInt,
  maxLength: isPositiveInt,
  instruction: instructionCheck,
  instructionFormat: isString,
  signal: isAbortSignal,
  onProgress: isFunction,
};

export const tokenIdsCallSchema: OptionSchema<TokenIdsCallOptions> = {
  maxLength: isPositiveInt,
  batchSize: isPositiveInt,
  signal: isAbortSignal,
  onProgress: isFunction,
};

export const encodeBatchesSchema: OptionSchema<EncodeBatchesOptions> = {
  batchSize: isPositiveInt,
  kind: choice('corpus', 'queries', 'plain'),
  signal: isAbortSignal,
};

/** Compile-time guard: a public options type that gains an index signature fails to build here. */
type Assert<T extends true> = T;
export type PublicOptionsHaveNoIndexSignature = [
  Assert<HasNoIndexSignature<BaseEmbedderOptions>>,
  Assert<HasNoIndexSignature<FlagModelOptions>>,
  Assert<HasNoIndexSignature<FlagICLModelOptions>>,
  Assert<HasNoIndexSignature<FlagLLMModelOptions>>,
  Assert<HasNoIndexSignature<AutoModelOptions>>,
  Assert<HasNoIndexSignature<EncodeCallOptions>>,
];

/** Per-call arguments of encode*: the texts (a string or a dense array of strings) and checked options. */
export function callTexts<O extends object = EncodeCallOptions>(
  input: unknown,
  options: unknown,
  where: string,
  schema: OptionSchema<O> = encodeCallSchema as unknown as OptionSchema<O>,
): { texts: string[]; options: O } {
  const checked = checkOptions(schema, options, where);
  return { texts: textList(input, where), options: checked };
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

/** Texts as FlagEmbedding takes them: one string or a dense list of strings (holes are refused, not skipped). */
export function textList(input: unknown, where: string): string[] {
  if (!Array.isArray(input)) {
    if (typeof input !== 'string') throw new InvalidInputError(`${where}: expected a string or an array of strings, got ${input === null ? 'null' : typeof input}`);
    return [input];
  }
  for (let i = 0; i < input.length; i++) {
    if (!(i in input)) throw new InvalidInputError(`${where}: the array of texts has a hole at index ${i} (a sparse array); pass a dense array of strings`);
    const t: unknown = input[i];
    if (typeof t !== 'string') {
      throw new InvalidInputError(`${where}: expected a string or an array of strings, but item ${i} is ${t === null ? 'null' : typeof t}`);
    }
  }
  return input as string[];
}

/** What encode* returns: one vector for one string, a list for a list. */
export type Encoded<T> = T extends string ? Float32Array : Float32Array[];

export function asEncoded<T extends string | string[]>(input: T, vectors: Float32Array[]): Encoded<T> {
  return (Array.isArray(input) ? vectors : vectors[0]) as Encoded<T>;
}
