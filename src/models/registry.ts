import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { modelsDir } from './paths.js';

export type EmbedderClass = 'FlagModel' | 'FlagICLModel' | 'FlagLLMModel' | 'BGEM3FlagModel';

export interface RegistryEntry {
  class: EmbedderClass;
  pooling: 'cls' | 'mean' | 'last';
  queryInstructionFormat: string;
  queryInstructionForRetrieval?: string;
  /** hf: URI of a GGUF to use when only the name is given. */
  gguf?: string;
  note?: string;
}

/** FlagEmbedding's reranker classes (inference/reranker/model_mapping.py); bge-gguf implements FlagReranker. */
export type RerankerClass = 'FlagReranker' | 'FlagLLMReranker' | 'LayerWiseFlagLLMReranker' | 'LightWeightFlagLLMReranker';

export interface RerankerEntry {
  class: RerankerClass;
  /** hf: URI of a GGUF to use when only the name is given. */
  gguf?: string;
  note?: string;
}

interface RegistryFile {
  default: { name: string; file: string };
  models: Record<string, RegistryEntry>;
  rerankers?: Record<string, RerankerEntry>;
}

let cached: RegistryFile | undefined;

function registry(): RegistryFile {
  cached ??= JSON.parse(readFileSync(join(modelsDir(), 'registry.json'), 'utf8')) as RegistryFile;
  return cached;
}

/** Path of the GGUF shipped in the package, used when no model is named. */
export function defaultModel(): { name: string; path: string } {
  const { name, file } = registry().default;
  return { name, path: join(modelsDir(), file) };
}

export function registryNames(): string[] {
  return Object.keys(registry().models);
}

/**
 * Finds the registry entry for a model name, an "org/name" id, an hf: URI or a GGUF path,
 * the way FlagEmbedding matches the last path component: "BAAI/bge-small-en-v1.5",
 * "bge-small-en-v1.5-q8_0.gguf" and "hf:x/bge-small-en-v1.5-gguf/bge-small-en-v1.5.Q8_0.gguf"
 * all find "bge-small-en-v1.5". The longest matching name wins (bge-small-en-v1.5 over bge-small-en).
 */
export function lookupModel(nameOrPath: string): { name: string; entry: RegistryEntry } | null {
  return lookupIn(registry().models, nameOrPath);
}

/** lookupModel for FlagAutoReranker: the registry's rerankers, matched the same way. */
export function lookupReranker(nameOrPath: string): { name: string; entry: RerankerEntry } | null {
  return lookupIn(registry().rerankers ?? {}, nameOrPath);
}

export function rerankerNames(): string[] {
  return Object.keys(registry().rerankers ?? {});
}

function lookupIn<T>(models: Record<string, T>, nameOrPath: string): { name: string; entry: T } | null {
  const key = (s: string) => s.toLowerCase();
  const leaf = key(basename(nameOrPath).replace(/\.gguf$/i, ''));
  const exact = Object.keys(models).find((n) => key(n) === leaf);
  if (exact) return { name: exact, entry: models[exact] };
  const candidates = Object.keys(models)
    .filter((n) => {
      const k = key(n);
      return leaf.startsWith(k) && /^($|[-_.])/.test(leaf.slice(k.length));
    })
    .sort((a, b) => b.length - a.length);
  return candidates.length > 0 ? { name: candidates[0], entry: models[candidates[0]] } : null;
}
