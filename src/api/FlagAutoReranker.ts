import { BgeGgufError } from '../errors.js';
import { lookupReranker, rerankerNames } from '../models/registry.js';
import { FlagReranker, type FlagRerankerOptions } from './FlagReranker.js';

export interface AutoRerankerOptions extends FlagRerankerOptions {
  /** A local GGUF or hf: URI to load when nameOrPath is a registry name (overrides the registry's file). */
  modelPath?: string;
}

/**
 * FlagEmbedding's FlagAutoReranker: the reranker class from models/registry.json by model name
 * (the last path component). Encoder cross-encoders load as FlagReranker; a name that is not
 * registered loads as FlagReranker when its GGUF has a classifier head.
 */
export class FlagAutoReranker {
  static async fromFinetuned(nameOrPath: string, options: AutoRerankerOptions = {}): Promise<FlagReranker> {
    const match = lookupReranker(nameOrPath);
    const isFile = nameOrPath.startsWith('hf:') || /\.gguf$/i.test(nameOrPath);
    if (match && match.entry.class !== 'FlagReranker') {
      const supported = rerankerNames().filter((n) => lookupReranker(n)?.entry.class === 'FlagReranker');
      throw new BgeGgufError(
        'UNSUPPORTED_MODEL',
        `${match.name} is a ${match.entry.class} (an LLM reranker) in FlagEmbedding, which bge-gguf does not support yet; supported rerankers: ${supported.join(', ')}`,
      );
    }
    const file = options.modelPath ?? (match && !isFile ? match.entry.gguf : nameOrPath);
    if (!file) {
      throw new BgeGgufError(
        'MODEL_NOT_FOUND',
        `${match?.name ?? nameOrPath} has no known GGUF download; convert it (bge-gguf convert <checkpoint dir> <out.gguf>) or pass options.modelPath (a local .gguf or hf: URI)`,
      );
    }
    const { modelPath: _ignored, ...rest } = options;
    return FlagReranker.load(file, rest);
  }
}
