import { BgeGgufError } from '../errors.js';
import { readGguf } from '../gguf/reader.js';
import { lookupModel, type RegistryEntry } from '../models/registry.js';
import { resolveModelFile } from '../models/resolve.js';
import { poolingFromGguf } from '../runtime/types.js';
import { FlagModel, type FlagModelOptions } from './FlagModel.js';

export interface AutoModelOptions extends FlagModelOptions {
  /** A local GGUF or hf: URI to load when nameOrPath is a registry name (overrides the registry's file). */
  modelPath?: string;
  /** Called with the reason when no registry entry matches and the GGUF's own pooling is used. */
  onFallback?: (message: string) => void;
  [key: string]: unknown;
}

/**
 * FlagEmbedding's FlagAutoModel: picks the class, pooling and default query instruction
 * from models/registry.json by model name (the last path component, like FlagEmbedding).
 */
export class FlagAutoModel {
  static async fromFinetuned(nameOrPath: string, options: AutoModelOptions = {}): Promise<FlagModel | import('./FlagICLModel.js').FlagICLModel> {
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
      return FlagModel.load(file, { ...instruction, poolingMethod: entry.pooling as 'cls' | 'mean', ...options });
    case 'FlagICLModel': {
      const { FlagICLModel } = await import('./FlagICLModel.js');
      return FlagICLModel.load(file, { ...instruction, ...options } as never);
    }
    default:
      throw new BgeGgufError('UNSUPPORTED_MODEL', `${name} is a ${entry.class} in FlagEmbedding, which bge-gguf does not implement yet; supported: FlagModel (BERT encoders, bge-m3 dense) and FlagICLModel (bge-en-icl)`);
  }
}

/** No registry entry: FlagModel with the pooling the GGUF itself declares (bert.pooling_type). */
async function loadByGgufPooling(file: string, nameOrPath: string, options: AutoModelOptions) {
  const path = await resolveModelFile(file);
  const metadata = (await readGguf(path)).metadata;
  const arch = String(metadata.get('general.architecture')?.value ?? '');
  const declared = poolingFromGguf(metadata.get(`${arch}.pooling_type`)?.value);
  const say = options.onFallback ?? ((m: string) => console.warn(`bge-gguf: ${m}`));
  if (declared === 'last') {
    say(`${nameOrPath} is not in the model registry; its GGUF declares last-token pooling, so it loads as FlagICLModel without examples`);
    const { FlagICLModel } = await import('./FlagICLModel.js');
    return FlagICLModel.load(path, options as never);
  }
  if (declared === 'rank') {
    throw new BgeGgufError('UNSUPPORTED_MODEL', `${nameOrPath} is a reranker (its GGUF declares rank pooling): load it with FlagReranker or FlagAutoReranker`);
  }
  const poolingMethod = declared ?? 'cls';
  say(`${nameOrPath} is not in the model registry; using ${declared ? "the GGUF's pooling_type" : 'cls pooling (the GGUF declares none)'} (${poolingMethod}) and no query instruction`);
  return FlagModel.load(path, { ...options, poolingMethod });
}
