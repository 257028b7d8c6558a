/**
 * One way for the CLI, the server and the LangChain adapter to embed texts with any embedder class: dense vectors from all,
 * and BGE-M3's lexical weights and ColBERT vectors when asked for (BGEM3FlagModel only).
 */
import { BGEM3FlagModel } from './BGEM3FlagModel.js';
import type { FlagICLModel } from './FlagICLModel.js';
import type { FlagLLMModel } from './FlagLLMModel.js';
import type { FlagModel } from './FlagModel.js';
import type { EncodeProgress } from './options.js';
import { InvalidInputError } from '../errors.js';
import type { LexicalWeights } from '../heads/m3.js';
import { missingM3Heads } from '../heads/m3HeadsFile.js';

export type EmbedModel = FlagModel | FlagICLModel | FlagLLMModel | BGEM3FlagModel;

export interface EmbedOutputsOptions {
  kind: 'queries' | 'corpus';
  /** BGE-M3's lexical weights ({token id: weight} per text). */
  sparse?: boolean;
  /** BGE-M3's ColBERT vectors (one per token after <s>). */
  colbert?: boolean;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (progress: EncodeProgress) => void;
}

export interface EmbedOutputs {
  dense: Float32Array[];
  lexicalWeights?: LexicalWeights[];
  colbertVecs?: Float32Array[][];
}

/**
 * Why `model` cannot give the sparse / ColBERT outputs asked for (not BGE-M3, or its heads sidecar is
 * missing), as the typed error to show; null when it can.
 */
export function m3OutputsUnavailable(model: EmbedModel, options: { sparse?: boolean; colbert?: boolean }): InvalidInputError | null {
  if (!options.sparse && !options.colbert) return null;
  const asked = [options.sparse ? 'sparse (lexical weights)' : null, options.colbert ? 'ColBERT vectors' : null].filter(Boolean).join(' and ');
  if (!(model instanceof BGEM3FlagModel)) return new InvalidInputError(`${asked} are BGE-M3 outputs; this model is a ${model.constructor.name}, which gives dense vectors only`);
  if (!model.hasSparseAndColbert) return new InvalidInputError(missingM3Heads(model.modelPath).message);
  return null;
}

/** Embeds queries or corpus texts; the dense vectors always, the M3 outputs when asked for. */
export async function embedOutputs(model: EmbedModel, texts: string[], options: EmbedOutputsOptions): Promise<EmbedOutputs> {
  const unavailable = m3OutputsUnavailable(model, options);
  if (unavailable) throw unavailable;
  const call = { signal: options.signal, onProgress: options.onProgress, ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}) };
  if (!(model instanceof BGEM3FlagModel)) {
    return { dense: options.kind === 'queries' ? await model.encodeQueries(texts, call) : await model.encodeCorpus(texts, call) };
  }
  const m3 = { ...call, returnDense: true, returnSparse: options.sparse ?? false, returnColbertVecs: options.colbert ?? false };
  const out = options.kind === 'queries' ? await model.encodeQueries(texts, m3) : await model.encodeCorpus(texts, m3);
  return {
    dense: out.denseVecs!,
    ...(out.lexicalWeights ? { lexicalWeights: out.lexicalWeights } : {}),
    ...(out.colbertVecs ? { colbertVecs: out.colbertVecs } : {}),
  };
}
