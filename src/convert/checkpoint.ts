/**
 * The files of a Hugging Face BERT checkpoint directory: config.json, the safetensors weights
 * (one file or shards), sentence-transformers pooling, and the model card's front matter.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BgeGgufError, InvalidInputError, ModelNotFoundError } from '../errors.js';

/** Architectures convert_hf_to_gguf.py converts as BertModel, minus the classifier head. */
export const BERT_ARCHITECTURES = ['BertModel', 'BertForMaskedLM', 'CamembertModel'] as const;

export interface BertHparams {
  architecture: string;
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  contextLength: number;
  layerNormEps: number;
  vocabSize: number | null;
  typeVocabSize: number;
  /** Every key of config.json, for the special-token ids it may hold. */
  raw: Record<string, unknown>;
}

export type CheckpointPooling = 'mean' | 'cls' | 'last';

export interface ModelCard {
  license?: string;
  tags?: string[];
  languages?: string[];
}

export function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InvalidInputError(`${path} is not valid JSON (${(error as Error).message}); fix or re-download the checkpoint`);
  }
}

export function readJsonIfPresent(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  const v = readJson(path);
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

export function checkCheckpointDir(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ModelNotFoundError(`${dir} is not a directory; pass the folder that holds config.json and model.safetensors`);
  }
  if (!existsSync(join(dir, 'config.json'))) {
    throw new ModelNotFoundError(`${dir} has no config.json; pass a Hugging Face checkpoint folder`);
  }
}

/** First key of `keys` present in config (convert_hf_to_gguf.py's find_hparam). */
function find(config: Record<string, unknown>, keys: string[]): unknown {
  for (const k of keys) if (config[k] !== undefined && config[k] !== null) return config[k];
  return undefined;
}

function positiveInt(config: Record<string, unknown>, keys: string[], what: string): number {
  const v = find(config, keys);
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new BgeGgufError('UNSUPPORTED_MODEL', `config.json has no usable ${what} (looked for ${keys.join(', ')})`);
  }
  return v;
}

export function readHparams(dir: string, allowed: readonly string[] = BERT_ARCHITECTURES): BertHparams {
  const config = readJsonIfPresent(join(dir, 'config.json'));
  if (!config) throw new InvalidInputError(`${join(dir, 'config.json')} is not a JSON object`);
  const archs = Array.isArray(config.architectures) ? config.architectures.map(String) : [];
  const architecture = archs.find((a) => allowed.includes(a));
  if (!architecture) {
    const what = archs.length ? archs.join(', ') : `model_type ${String(config.model_type)}`;
    throw new BgeGgufError(
      'UNSUPPORTED_MODEL',
      `${dir}: architecture ${what} is not supported; bge-gguf converts BERT and XLM-RoBERTa checkpoints (${[...BERT_ARCHITECTURES, 'XLMRobertaModel', 'XLMRobertaForSequenceClassification'].join(', ')}). Convert other models with llama.cpp's convert_hf_to_gguf.py`,
    );
  }
  const eps = find(config, ['layer_norm_eps', 'layer_norm_epsilon', 'norm_epsilon']);
  const vocabSize = config.vocab_size;
  const typeVocab = config.type_vocab_size;
  return {
    architecture,
    layers: positiveInt(config, ['n_layers', 'num_hidden_layers', 'n_layer', 'num_layers'], 'layer count'),
    hidden: positiveInt(config, ['hidden_size', 'n_embd', 'dim'], 'hidden size'),
    heads: positiveInt(config, ['num_attention_heads', 'n_head', 'n_heads'], 'head count'),
    ffn: positiveInt(config, ['intermediate_size', 'n_inner', 'hidden_dim'], 'intermediate size'),
    contextLength: positiveInt(config, ['max_position_embeddings', 'n_ctx', 'n_positions', 'max_length', 'max_sequence_length', 'model_max_length'], 'context length'),
    layerNormEps: typeof eps === 'number' ? eps : 1e-12,
    vocabSize: typeof vocabSize === 'number' && Number.isInteger(vocabSize) && vocabSize > 0 ? vocabSize : null,
    typeVocabSize: typeof typeVocab === 'number' && Number.isInteger(typeVocab) && typeVocab > 0 ? typeVocab : 1,
    raw: config,
  };
}

/** The weight files the way convert_hf_to_gguf.py finds them: model*.safetensors, sorted. */
export function safetensorsFiles(dir: string): string[] {
  const files = readdirSync(dir).filter((f) => f.startsWith('model') && f.endsWith('.safetensors')).sort();
  if (files.length === 0) {
    const hasBin = readdirSync(dir).some((f) => f.startsWith('pytorch_model') && f.endsWith('.bin'));
    throw new ModelNotFoundError(
      hasBin
        ? `${dir} holds only pytorch_model*.bin weights; save the model as safetensors first (model.save_pretrained(dir, safe_serialization=True))`
        : `${dir} has no model.safetensors; download the checkpoint's weights into it`,
    );
  }
  return files.map((f) => join(dir, f));
}

/**
 * Pooling from sentence-transformers' modules.json → <pooling module>/config.json, as
 * convert_hf_to_gguf.py reads it; null when the checkpoint does not say.
 */
export function readPooling(dir: string): CheckpointPooling | null {
  const modules = existsSync(join(dir, 'modules.json')) ? readJson(join(dir, 'modules.json')) : null;
  if (!Array.isArray(modules)) return null;
  const mod = modules.find((m) => typeof m?.type === 'string' && m.type.endsWith('Pooling'));
  if (!mod || typeof mod.path !== 'string') return null;
  const config = readJsonIfPresent(join(dir, mod.path, 'config.json'));
  if (!config) throw new ModelNotFoundError(`${join(dir, mod.path, 'config.json')} is missing; modules.json names a pooling module there`);
  if (config.pooling_mode_mean_tokens) return 'mean';
  if (config.pooling_mode_cls_token) return 'cls';
  if (config.pooling_mode_lasttoken) return 'last';
  const mode = config.pooling_mode;
  if (mode === 'mean' || mode === 'cls') return mode;
  if (mode === 'lasttoken') return 'last';
  throw new BgeGgufError('UNSUPPORTED_MODEL', `${join(dir, mod.path, 'config.json')}: only mean, cls and last-token pooling can be stored in a GGUF`);
}

function scalar(raw: string): string {
  const s = raw.trim();
  return (s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")) ? s.slice(1, -1) : s;
}

/**
 * license / tags / pipeline_tag / language(s) from README.md's YAML front matter (only the
 * `key: value`, `key: [a, b]` and `- item` list forms model cards use).
 */
export function readModelCard(dir: string): ModelCard {
  const path = join(dir, 'README.md');
  if (!existsSync(path)) return {};
  const m = /^---\r?\n([\s\S]*?)\r?\n---/.exec(readFileSync(path, 'utf8'));
  if (!m) return {};
  const fields = new Map<string, string | string[]>();
  let listKey: string | null = null;
  for (const line of m[1].split(/\r?\n/)) {
    const item = /^\s*-\s+(.*)$/.exec(line);
    if (item && listKey) {
      (fields.get(listKey) as string[]).push(scalar(item[1]));
      continue;
    }
    const kv = /^([A-Za-z_][\w-]*):\s*(.*)$/.exec(line);
    if (!kv) continue;
    const [, key, value] = kv;
    if (value === '') {
      fields.set(key, []);
      listKey = key;
    } else {
      listKey = null;
      fields.set(key, value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1).split(',').map(scalar).filter(Boolean) : scalar(value));
    }
  }
  const list = (key: string): string[] => {
    const v = fields.get(key);
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  const card: ModelCard = {};
  const license = list('license');
  if (license.length) card.license = license.join(',');
  const tags = [...list('tags'), ...list('pipeline_tag')];
  if (tags.length) card.tags = tags;
  const languages = [...list('languages'), ...list('language')];
  if (languages.length) card.languages = languages;
  return card;
}
