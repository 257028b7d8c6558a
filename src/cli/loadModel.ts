import { FlagAutoModel } from '../api/FlagAutoModel.js';
import { FlagModel } from '../api/FlagModel.js';
import { FlagAutoReranker } from '../api/FlagAutoReranker.js';
import { FlagReranker } from '../api/FlagReranker.js';
import { InvalidInputError } from '../errors.js';
import { readGguf } from '../gguf/reader.js';
import { defaultModel, lookupModel, lookupReranker } from '../models/registry.js';
import { resolveModelFile } from '../models/resolve.js';
import { poolingFromGguf } from '../runtime/types.js';
import type { EmbedModel } from '../api/embedOutputs.js';

/** Which model to load and how (the CLI's --model, --pooling, --threads, --batch-size, --cpu). */
export interface ModelSpec {
  /** A local .gguf, an hf: URI or a registry name; default: the embedded model. */
  model?: string;
  pooling?: 'cls' | 'mean';
  threads?: number;
  batchSize?: number;
  cpu?: boolean;
}

export async function loadModel(spec: ModelSpec): Promise<EmbedModel> {
  const options = {
    ...(spec.threads !== undefined ? { threads: spec.threads } : {}),
    ...(spec.batchSize !== undefined ? { batchSize: spec.batchSize } : {}),
    ...(spec.pooling ? { poolingMethod: spec.pooling } : {}),
    ...(spec.cpu ? { gpu: false as const } : {}),
  };
  if (!spec.model) return FlagModel.load(undefined, options);
  return FlagAutoModel.fromFinetuned(spec.model, options);
}

/** The name a server reports for the model: what --model said, else the embedded model's registry name. */
export function modelName(spec: ModelSpec): string {
  return spec.model ?? defaultModel().name;
}

/** What a server (or any caller that takes "a model") loaded: an embedder, or a cross-encoder reranker. */
export type ServedModel = { task: 'embed'; model: EmbedModel } | { task: 'rerank'; model: FlagReranker };

/**
 * Loads spec.model as a reranker when it is one (a registry reranker name, or a GGUF declaring rank
 * pooling or carrying a classifier head cls.output), else as an embedder (loadModel).
 */
export async function loadServedModel(spec: ModelSpec): Promise<ServedModel> {
  const reranker = spec.model ? await rerankerFile(spec.model) : null;
  if (!reranker) return { task: 'embed', model: await loadModel(spec) };
  if (spec.pooling) throw new InvalidInputError(`--pooling ${spec.pooling} does not apply to ${spec.model}: it is a reranker (rank pooling through its classifier head)`);
  const options = {
    ...(spec.threads !== undefined ? { threads: spec.threads } : {}),
    ...(spec.batchSize !== undefined ? { batchSize: spec.batchSize } : {}),
    ...(spec.cpu ? { gpu: false as const } : {}),
  };
  const model = reranker === 'registry' ? await FlagAutoReranker.fromFinetuned(spec.model!, options) : await FlagReranker.load(reranker, options);
  return { task: 'rerank', model };
}

/** 'registry' for a reranker name, the resolved GGUF path for a reranker file, null for anything else. */
async function rerankerFile(model: string): Promise<'registry' | string | null> {
  const isFile = model.startsWith('hf:') || /\.gguf$/i.test(model);
  if (!isFile) return lookupReranker(model) && !lookupModel(model) ? 'registry' : null;
  const path = await resolveModelFile(model);
  const gguf = await readGguf(path);
  const arch = String(gguf.metadata.get('general.architecture')?.value ?? '');
  const rank = poolingFromGguf(gguf.metadata.get(`${arch}.pooling_type`)?.value) === 'rank';
  return rank || gguf.tensors.some((t) => t.name === 'cls.output.weight') ? path : null;
}
