/**
 * Hugging Face BERT checkpoint (safetensors + WordPiece tokenizer) → GGUF for llama.cpp's "bert"
 * architecture, with the tensor names, types and metadata llama.cpp's convert_hf_to_gguf.py writes.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BgeGgufError, InvalidInputError } from '../errors.js';
import { gv, type GgufTensorInput, type GgufValue } from '../gguf/types.js';
import { writeGgufAtomically } from '../gguf/writer.js';
import {
  checkCheckpointDir,
  readHparams,
  readJsonIfPresent,
  readModelCard,
  readPooling,
  safetensorsFiles,
  type BertHparams,
  type CheckpointPooling,
} from './checkpoint.js';
import { readSafetensorsHeader, readTensorAsF32, type SafetensorsTensor } from './safetensors.js';
import { readSpecialTokens, specialTokenMetadata } from './specialTokens.js';
import { FILE_TYPE, ggufTensorName, tensorType, type OutType } from './tensorNames.js';
import { readBertVocab, tokenizerPreName } from './vocab.js';
import { convertXlmr, isXlmrCheckpoint } from './xlmr.js';
import { convertM3Heads, hasM3Heads } from './m3Heads.js';

export type { OutType } from './tensorNames.js';
export const OUT_TYPES: readonly OutType[] = ['f32', 'f16', 'q8_0'];

export interface ConvertOptions {
  type: OutType;
  /** general.name; default: the checkpoint folder's name (the script's fallback). */
  name?: string;
  /** Overrides the pooling read from modules.json / 1_Pooling/config.json. */
  pooling?: CheckpointPooling;
}

export interface ConvertSummary extends Pick<BertHparams, 'architecture' | 'layers' | 'hidden' | 'heads' | 'ffn' | 'contextLength'> {
  outPath: string;
  type: OutType;
  vocabSize: number;
  /** 'rank': a sequence classifier (reranker), scored by llama.cpp's rank pooling. */
  pooling: CheckpointPooling | 'rank' | null;
  tokenizerSource: 'tokenizer.json' | 'vocab.txt' | 'sentencepiece.bpe.model';
  tokenizerPre: string;
  tensorCount: number;
  parameterCount: number;
  /** Checkpoint tensors left out (pooler, MLM heads, position_ids). */
  skippedTensors: string[];
  fileBytes: number;
  /** BGE-M3 checkpoints: the heads sidecar written beside the GGUF. */
  m3HeadsPath?: string;
}

const POOLING_TYPE: Record<CheckpointPooling, number> = { mean: 1, cls: 2, last: 3 };

/** gguf-py's size label: parameters in K/M/B/T with at least two significant digits. */
export function sizeLabel(params: number): string {
  const [scale, suffix] = params > 1e12 ? [1e-12, 'T'] : params > 1e9 ? [1e-9, 'B'] : params > 1e6 ? [1e-6, 'M'] : [1e-3, 'K'];
  const scaled = params * scale;
  const digits = String(Math.round(scaled)).replace(/^0+/, '').length;
  return `${scaled.toFixed(Math.max(2 - digits, 0))}${suffix}`;
}

async function collectTensors(dir: string, layers: number): Promise<{ kept: Array<[SafetensorsTensor, string]>; skipped: string[] }> {
  const all: SafetensorsTensor[] = [];
  for (const file of safetensorsFiles(dir)) for (const tensor of (await readSafetensorsHeader(file)).tensors) all.push(tensor);
  // Sorted by name: the order the script's safetensors loader hands tensors over in.
  all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const kept: Array<[SafetensorsTensor, string]> = [];
  const skipped: string[] = [];
  const seen = new Map<string, string>();
  for (const t of all) {
    const name = ggufTensorName(t.name, layers);
    if (name === null) {
      skipped.push(t.name);
      continue;
    }
    if (seen.has(name)) throw new BgeGgufError('UNSUPPORTED_MODEL', `${t.name} and ${seen.get(name)} both map to ${name}`);
    seen.set(name, t.name);
    kept.push([t, name]);
  }
  return { kept, skipped };
}

function expectShape(name: string, actual: number[], expected: number[]): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new BgeGgufError('UNSUPPORTED_MODEL', `tensor ${name} has shape [${actual}] but config.json implies [${expected}]`);
  }
}

/** The PyTorch shape llama.cpp's BERT graph needs for each tensor (checked before writing). */
function expectedShape(ggufName: string, h: { hidden: number; ffn: number; contextLength: number; typeVocabSize: number }, vocabSize: number): number[] | null {
  const { hidden, ffn } = h;
  const base = ggufName.replace(/^blk\.\d+\./, '');
  const isBias = ggufName.endsWith('.bias');
  switch (base.replace(/\.(weight|bias)$/, '')) {
    case 'token_embd': return [vocabSize, hidden];
    case 'token_types': return [h.typeVocabSize, hidden];
    case 'position_embd': return [h.contextLength, hidden];
    case 'token_embd_norm': case 'attn_output_norm': case 'layer_output_norm': return [hidden];
    case 'attn_q': case 'attn_k': case 'attn_v': case 'attn_output': return isBias ? [hidden] : [hidden, hidden];
    case 'ffn_up': return isBias ? [ffn] : [ffn, hidden];
    case 'ffn_down': return isBias ? [hidden] : [hidden, ffn];
    default: return null;
  }
}

function requiredNames(layers: number): string[] {
  const names = ['token_embd.weight', 'position_embd.weight', 'token_embd_norm.weight', 'token_embd_norm.bias'];
  const perLayer = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'attn_output_norm', 'ffn_up', 'ffn_down', 'layer_output_norm'];
  for (let i = 0; i < layers; i++) for (const p of perLayer) names.push(`blk.${i}.${p}.weight`, `blk.${i}.${p}.bias`);
  return names;
}

export async function convertHfToGguf(hfDir: string, outPath: string, options: ConvertOptions): Promise<ConvertSummary> {
  if (!options || !OUT_TYPES.includes(options.type)) {
    throw new InvalidInputError(`type must be one of ${OUT_TYPES.join(', ')} (got ${String(options?.type)})`);
  }
  if (options.pooling !== undefined && !(options.pooling in POOLING_TYPE)) {
    throw new InvalidInputError(`pooling must be mean, cls or last (got ${String(options.pooling)})`);
  }
  const dir = resolve(hfDir);
  const out = resolve(outPath);
  checkCheckpointDir(dir);
  if (!existsSync(dirname(out)) || !statSync(dirname(out)).isDirectory()) {
    throw new InvalidInputError(`the output folder ${dirname(out)} does not exist; create it first`);
  }
  if (existsSync(out) && statSync(out).isDirectory()) throw new InvalidInputError(`${out} is a folder; give a .gguf file path`);

  if (isXlmrCheckpoint(dir)) {
    const r = await convertXlmr(dir, out, options);
    // BGE-M3: its sparse and ColBERT heads (torch .pt files) go to a sidecar BGEM3FlagModel.load finds
    const m3HeadsPath = hasM3Heads(dir) ? await convertM3Heads(dir, out) : undefined;
    return { outPath: out, type: options.type, tokenizerPre: 'default', ...r, ...(m3HeadsPath ? { m3HeadsPath } : {}) };
  }
  const h = readHparams(dir);
  safetensorsFiles(dir); // fail on missing weights before reading the tokenizer
  const vocab = readBertVocab(dir, h.vocabSize);
  const vocabSize = vocab.tokens.length;
  const special = readSpecialTokens(vocab.tokenizerJson, readJsonIfPresent(join(dir, 'tokenizer_config.json')), h.raw, vocabSize);
  const pooling = options.pooling ?? readPooling(dir);
  const card = readModelCard(dir);
  const pre = tokenizerPreName(vocab, special.lowercase);

  const { kept, skipped } = await collectTensors(dir, h.layers);
  const present = new Set(kept.map(([, n]) => n));
  const missing = requiredNames(h.layers).filter((n) => !present.has(n));
  if (missing.length) {
    throw new BgeGgufError('UNSUPPORTED_MODEL', `${dir}: the checkpoint lacks ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', …' : ''}; is it a complete BERT model?`);
  }

  const tensors: GgufTensorInput[] = [];
  let parameterCount = 0;
  for (const [t, name] of kept) {
    const expected = expectedShape(name, h, vocabSize);
    if (expected) expectShape(t.name, t.shape, expected);
    const shape = [...t.shape].reverse();
    tensors.push({ name, shape, type: tensorType(name, shape, options.type), data: await readTensorAsF32(t) });
    parameterCount += t.shape.reduce((a, d) => a * d, 1);
  }

  const metadata: Array<[string, GgufValue]> = [
    ['general.architecture', gv.str('bert')],
    ['general.type', gv.str('model')],
    ['general.name', gv.str(options.name ?? basename(dir))],
    ['general.size_label', gv.str(sizeLabel(parameterCount))],
  ];
  if (card.license) metadata.push(['general.license', gv.str(card.license)]);
  if (card.tags) metadata.push(['general.tags', gv.strs(card.tags)]);
  if (card.languages) metadata.push(['general.languages', gv.strs(card.languages)]);
  metadata.push(
    ['bert.block_count', gv.u32(h.layers)],
    ['bert.context_length', gv.u32(h.contextLength)],
    ['bert.embedding_length', gv.u32(h.hidden)],
    ['bert.feed_forward_length', gv.u32(h.ffn)],
    ['bert.attention.head_count', gv.u32(h.heads)],
  );
  const kvHeads = h.raw.num_key_value_heads ?? h.raw.n_kv_heads;
  if (typeof kvHeads === 'number') metadata.push(['bert.attention.head_count_kv', gv.u32(kvHeads)]);
  metadata.push(
    ['bert.attention.layer_norm_epsilon', gv.f32(h.layerNormEps)],
    ['general.file_type', gv.u32(FILE_TYPE[options.type])],
    ['bert.attention.causal', gv.bool(false)],
  );
  if (pooling) metadata.push(['bert.pooling_type', gv.u32(POOLING_TYPE[pooling])]);
  metadata.push(
    ['general.quantization_version', gv.u32(2)],
    ['tokenizer.ggml.token_type_count', gv.u32(h.typeVocabSize)],
    ['tokenizer.ggml.model', gv.str('bert')],
    ['tokenizer.ggml.pre', gv.str(pre)],
    ['tokenizer.ggml.tokens', gv.strs(vocab.tokens)],
    ['tokenizer.ggml.token_type', gv.i32s(vocab.types)],
    ...specialTokenMetadata(special),
  );

  await writeGgufAtomically(out, metadata, tensors);
  return {
    outPath: out,
    type: options.type,
    architecture: h.architecture,
    layers: h.layers,
    hidden: h.hidden,
    heads: h.heads,
    ffn: h.ffn,
    contextLength: h.contextLength,
    vocabSize,
    pooling,
    tokenizerSource: vocab.source,
    tokenizerPre: pre,
    tensorCount: tensors.length,
    parameterCount,
    skippedTensors: skipped,
    fileBytes: statSync(out).size,
  };
}

