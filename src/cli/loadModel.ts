import { FlagAutoModel } from '../api/FlagAutoModel.js';
import { FlagModel } from '../api/FlagModel.js';
import type { FlagICLModel } from '../api/FlagICLModel.js';
import type { FlagLLMModel } from '../api/FlagLLMModel.js';
import { defaultModel } from '../models/registry.js';

export type AnyModel = FlagModel | FlagICLModel | FlagLLMModel;

/** Which model to load and how (the CLI's --model, --pooling, --threads, --batch-size, --cpu). */
export interface ModelSpec {
  /** A local .gguf, an hf: URI or a registry name; default: the embedded model. */
  model?: string;
  pooling?: 'cls' | 'mean';
  threads?: number;
  batchSize?: number;
  cpu?: boolean;
}

export async function loadModel(spec: ModelSpec): Promise<AnyModel> {
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
