import { BgeGgufError, InvalidInputError, ModelNotFoundError } from '../errors.js';
import { readGguf } from '../gguf/reader.js';
import { lookupModel, type RegistryEntry } from '../models/registry.js';
import { resolveModelFile } from '../models/resolve.js';
import { poolingFromGguf } from '../runtime/types.js';
import type { FlagICLModelOptions } from './FlagICLModel.js';
import { FlagModel, type FlagModelOptions } from './FlagModel.js';
import { autoModelSchema, flagICLModelSchema, flagLLMModelSchema, flagModelSchema } from './options.js';
import { checkOptions, type OptionSchema } from './validate.js';

/** FlagModel's options, FlagICLModel's (used when the model is a decoder), and two of its own. */
export interface AutoModelOptions extends FlagModelOptions, Pick<FlagICLModelOptions, 'examplesForTask' | 'examplesInstructionFormat' | 'suffix'> {
  /** A local GGUF or hf: URI to load when nameOrPath is a registry name (overrides the registry's file). */
  modelPath?: string;
  /** Called with the reason when no registry entry matches and the GGUF's own pooling is used. */
  onFallback?: (message: string) => void;
}

/**
 * FlagEmbedding's FlagAutoModel: picks the class, pooling and default query instruction
 * from models/registry.json by model name (the last path component, like FlagEmbedding).
 */
export class FlagAutoModel {
  static async fromFinetuned(nameOrPath: string, options: AutoModelOptions = {}): Promise<FlagModel | import('./FlagICLModel.js').FlagICLModel | import('./FlagLLMModel.js').FlagLLMModel> {
    options = checkOptions(autoModelSchema, options, 'FlagAutoModel.fromFinetuned');
    if (typeof nameOrPath !== 'string' || nameOrPath.trim() === '') {
      throw new ModelNotFoundError(`FlagAutoModel.fromFinetuned needs a model name, GGUF path or hf: URI, got ${typeof nameOrPath === 'string' ? 'an empty string' : String(nameOrPath)}`);
    }
    const match = lookupModel(nameOrPath);
    const file = options.modelPath ?? (match && !looksLikeFile(nameOrPath) ? match.entry.gguf : nameOrPath);
    if (!file) {
      throw new BgeGgufError('MODEL_NOT_FOUND', `${match?.name ?? nameOrPath} has no known GGUF download; convert it (bge-gguf convert) or pass options.modelPath (a local .gguf or hf: URI)`);
    }
    if (!match) return loadByGgufPooling(file, nameOrPath, options);
    return loadForEntry(match.name, match.entry, file, options);
  }
}

function looksLikeFile(s: string): boolean {
  return s.startsWith('hf:') || /\.gguf$/i.test(s);
}

async function loadForEntry(name: string, entry: RegistryEntry, file: string, options: AutoModelOptions) {
  const instruction = { queryInstructionForRetrieval: entry.queryInstructionForRetrieval, queryInstructionFormat: entry.queryInstructionFormat };
  switch (entry.class) {
    case 'FlagModel':
    case 'BGEM3FlagModel':
      return FlagModel.load(file, { ...instruction, poolingMethod: entry.pooling as 'cls' | 'mean', ...optionsFor(flagModelSchema, 'FlagModel', name, options) });
    case 'FlagICLModel': {
      const { FlagICLModel } = await import('./FlagICLModel.js');
      return FlagICLModel.load(file, { ...instruction, ...optionsFor(flagICLModelSchema, 'FlagICLModel', name, options) });
    }
    case 'FlagLLMModel': {
      const { FlagLLMModel } = await import('./FlagLLMModel.js');
      return FlagLLMModel.load(file, { ...instruction, ...optionsFor(flagLLMModelSchema, 'FlagLLMModel', name, options) });
    }
    default:
      throw new BgeGgufError('UNSUPPORTED_MODEL', `${name} is a ${entry.class} in FlagEmbedding, which bge-gguf does not implement yet; supported: FlagModel (BERT encoders, bge-m3 dense), FlagICLModel (bge-en-icl) and FlagLLMModel (decoder embedders)`);
  }
}

/** No registry entry: FlagModel with the pooling the GGUF itself declares (bert.pooling_type). */
async function loadByGgufPooling(file: string, nameOrPath: string, options: AutoModelOptions) {
  const path = await resolveModelFile(file, {
    signal: options.signal,
    onDownloadProgress: options.onDownloadProgress,
    connectTimeoutMs: options.downloadConnectTimeoutMs,
    idleTimeoutMs: options.downloadIdleTimeoutMs,
  });
  const metadata = (await readGguf(path)).metadata;
  const arch = String(metadata.get('general.architecture')?.value ?? '');
  const declared = poolingFromGguf(metadata.get(`${arch}.pooling_type`)?.value);
  const say = options.onFallback ?? ((m: string) => console.warn(`bge-gguf: ${m}`));
  if (declared === 'last') {
    say(`${nameOrPath} is not in the model registry; its GGUF declares last-token pooling, so it loads as FlagICLModel without examples`);
    const { FlagICLModel } = await import('./FlagICLModel.js');
    return FlagICLModel.load(path, optionsFor(flagICLModelSchema, 'FlagICLModel', nameOrPath, options));
  }
  if (declared === 'rank') {
    throw new BgeGgufError('UNSUPPORTED_MODEL', `${nameOrPath} is a reranker (its GGUF declares rank pooling): load it with FlagReranker or FlagAutoReranker`);
  }
  const poolingMethod = declared ?? 'cls';
  say(`${nameOrPath} is not in the model registry; using ${declared ? "the GGUF's pooling_type" : 'cls pooling (the GGUF declares none)'} (${poolingMethod}) and no query instruction`);
  return FlagModel.load(path, { ...optionsFor(flagModelSchema, 'FlagModel', nameOrPath, options), poolingMethod });
}

/** The options the chosen class takes; one given that only the other class knows is an error, not silently dropped. */
function optionsFor<T extends object>(schema: OptionSchema<T>, className: string, name: string, options: AutoModelOptions): T {
  const picked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === 'modelPath' || key === 'onFallback' || value === undefined) continue;
    if (!Object.prototype.hasOwnProperty.call(schema, key)) {
      throw new InvalidInputError(`FlagAutoModel.fromFinetuned: option ${key} does not apply to ${name}, which loads as ${className}; remove it`);
    }
    picked[key] = value;
  }
  return picked as T;
}
