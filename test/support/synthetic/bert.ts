/**
 * Random-weight BERT models in the exact GGUF layout llama.cpp's convert_hf_to_gguf.py writes for
 * BertModel (arch "bert"), with a real WordPiece vocabulary copied from a vocab-only GGUF.
 * Used by tests (against an independent float64 forward pass) and benchmarks.
 */
import { InvalidInputError } from '../../../src/errors.js';
import { readGguf } from '../../../src/gguf/reader.js';
import { roundTripValues, Q8_0_BLOCK } from '../../../src/gguf/quantize.js';
import { GgmlType, GgufValueType, gv, type GgufTensorInput, type GgufValue } from '../../../src/gguf/types.js';
import { writeGguf } from '../../../src/gguf/writer.js';
import { deriveSeed, Rng } from './random.js';

export type SyntheticPooling = 'cls' | 'mean';
export type SyntheticType = GgmlType.F32 | GgmlType.F16 | GgmlType.Q8_0;

export interface SyntheticBertOptions {
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  maxPositions?: number; // default 512
  type: SyntheticType;
  pooling: SyntheticPooling;
  seed: number;
  /** A vocab-only BERT GGUF (e.g. llama.cpp's models/ggml-vocab-bert-bge.gguf); its tokenizer.ggml.* keys are copied. */
  vocabGguf: string;
  layerNormEps?: number; // default 1e-12 (bge)
  name?: string;
}

export interface LinearWeights {
  /** PyTorch layout [out, in], row-major (= ggml shape [in, out]). */
  weight: Float32Array;
  bias: Float32Array;
  inFeatures: number;
  outFeatures: number;
}

export interface NormWeights {
  weight: Float32Array;
  bias: Float32Array;
}

export interface BertLayerWeights {
  query: LinearWeights;
  key: LinearWeights;
  value: LinearWeights;
  attnOutput: LinearWeights;
  attnOutputNorm: NormWeights;
  ffnUp: LinearWeights;
  ffnDown: LinearWeights;
  layerOutputNorm: NormWeights;
}

export interface BertConfig {
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  maxPositions: number;
  vocabSize: number;
  typeVocabSize: number;
  layerNormEps: number;
  pooling: SyntheticPooling;
}

export interface BertWeights {
  config: BertConfig;
  /** [vocabSize, hidden] row-major: row t is token t's embedding. */
  tokenEmbeddings: Float32Array;
  /** [maxPositions, hidden]. */
  positionEmbeddings: Float32Array;
  /** [typeVocabSize, hidden]. */
  tokenTypeEmbeddings: Float32Array;
  embeddingNorm: NormWeights;
  layers: BertLayerWeights[];
}

export interface SyntheticBertResult {
  /** The values the file holds, after F16/Q8_0 rounding (what llama.cpp computes with). */
  weights: BertWeights;
  /** The float32 values before conversion to the file's type (equal to `weights` for F32). */
  sourceWeights: BertWeights;
}

const POOLING_TYPE = { mean: 1, cls: 2 } as const; // llama.cpp enum llama_pooling_type
const FILE_TYPE: Record<SyntheticType, number> = { [GgmlType.F32]: 0, [GgmlType.F16]: 1, [GgmlType.Q8_0]: 7 };

const MATRIX_STD = 0.08;
const EMBEDDING_STD = 0.1;
const BIAS_STD = 0.02;
const NORM_WEIGHT_STD = 0.1;

function checkOptions(o: SyntheticBertOptions): void {
  for (const key of ['layers', 'hidden', 'heads', 'ffn'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) throw new InvalidInputError(`synthetic BERT: ${key} must be a positive integer`);
  }
  if (o.hidden % o.heads !== 0) throw new InvalidInputError(`synthetic BERT: hidden (${o.hidden}) must be a multiple of heads (${o.heads})`);
  const maxPositions = o.maxPositions ?? 512;
  if (!Number.isInteger(maxPositions) || maxPositions < 1) throw new InvalidInputError('synthetic BERT: maxPositions must be a positive integer');
  if (![GgmlType.F32, GgmlType.F16, GgmlType.Q8_0].includes(o.type)) throw new InvalidInputError('synthetic BERT: type must be F32, F16 or Q8_0');
  if (o.pooling !== 'cls' && o.pooling !== 'mean') throw new InvalidInputError(`synthetic BERT: pooling must be 'cls' or 'mean'`);
}

/** Reads the tokenizer.ggml.* metadata of a vocab-only BERT GGUF. */
async function readBertVocab(path: string): Promise<{ entries: Array<[string, GgufValue]>; vocabSize: number; typeVocabSize: number }> {
  const file = await readGguf(path);
  const model = file.metadata.get('tokenizer.ggml.model')?.value;
  if (model !== 'bert') throw new InvalidInputError(`${path}: tokenizer.ggml.model is ${String(model)}, a BERT WordPiece vocab ("bert") is needed`);
  const tokens = file.metadata.get('tokenizer.ggml.tokens');
  if (!tokens || tokens.type !== GgufValueType.ARRAY) throw new InvalidInputError(`${path}: no tokenizer.ggml.tokens`);
  const typeCount = file.metadata.get('tokenizer.ggml.token_type_count')?.value;
  const entries = [...file.metadata].filter(([key]) => key.startsWith('tokenizer.ggml.'));
  return { entries, vocabSize: tokens.value.length, typeVocabSize: typeof typeCount === 'number' ? typeCount : 2 };
}

/** Deterministic per-tensor source values: independent of tensor order and of the file type. */
export function makeSource(config: BertConfig, seed: number): BertWeights {
  const { hidden, ffn } = config;
  const normal = (name: string, count: number, mean: number, std: number): Float32Array =>
    new Rng(deriveSeed(seed, name)).normalArray(count, mean, std);
  const linear = (name: string, inFeatures: number, outFeatures: number): LinearWeights => ({
    weight: normal(`${name}.weight`, inFeatures * outFeatures, 0, MATRIX_STD),
    bias: normal(`${name}.bias`, outFeatures, 0, BIAS_STD),
    inFeatures,
    outFeatures,
  });
  const norm = (name: string): NormWeights => ({
    weight: normal(`${name}.weight`, hidden, 1, NORM_WEIGHT_STD),
    bias: normal(`${name}.bias`, hidden, 0, BIAS_STD),
  });
  const layers: BertLayerWeights[] = [];
  for (let i = 0; i < config.layers; i++) {
    const p = `blk.${i}`;
    layers.push({
      query: linear(`${p}.attn_q`, hidden, hidden),
      key: linear(`${p}.attn_k`, hidden, hidden),
      value: linear(`${p}.attn_v`, hidden, hidden),
      attnOutput: linear(`${p}.attn_output`, hidden, hidden),
      attnOutputNorm: norm(`${p}.attn_output_norm`),
      ffnUp: linear(`${p}.ffn_up`, hidden, ffn),
      ffnDown: linear(`${p}.ffn_down`, ffn, hidden),
      layerOutputNorm: norm(`${p}.layer_output_norm`),
    });
  }
  return {
    config,
    tokenEmbeddings: normal('token_embd.weight', config.vocabSize * hidden, 0, EMBEDDING_STD),
    positionEmbeddings: normal('position_embd.weight', config.maxPositions * hidden, 0, EMBEDDING_STD),
    tokenTypeEmbeddings: normal('token_types.weight', config.typeVocabSize * hidden, 0, EMBEDDING_STD),
    embeddingNorm: norm('token_embd_norm'),
    layers,
  };
}

/**
 * The tensors convert_hf_to_gguf.py would write, with its type rules: 1-D tensors, norms,
 * position and token-type embeddings stay F32; other matrices get the file type (Q8_0 falls
 * back to F16 when a row is not whole 32-blocks, as gguf-py does).
 */
export function toTensors(w: BertWeights, type: SyntheticType): GgufTensorInput[] {
  const { hidden } = w.config;
  const matrixType = (rowLength: number): GgmlType =>
    type === GgmlType.Q8_0 && rowLength % Q8_0_BLOCK !== 0 ? GgmlType.F16 : type;
  const tensors: GgufTensorInput[] = [];
  const f32 = (name: string, shape: number[], data: Float32Array) => tensors.push({ name, shape, type: GgmlType.F32, data });
  const matrix = (name: string, shape: number[], data: Float32Array) =>
    tensors.push({ name, shape, type: matrixType(shape[0]), data });
  const linear = (name: string, l: LinearWeights) => {
    matrix(`${name}.weight`, [l.inFeatures, l.outFeatures], l.weight);
    f32(`${name}.bias`, [l.outFeatures], l.bias);
  };
  const norm = (name: string, n: NormWeights) => {
    f32(`${name}.weight`, [hidden], n.weight);
    f32(`${name}.bias`, [hidden], n.bias);
  };
  matrix('token_embd.weight', [hidden, w.config.vocabSize], w.tokenEmbeddings);
  f32('position_embd.weight', [hidden, w.config.maxPositions], w.positionEmbeddings);
  f32('token_types.weight', [hidden, w.config.typeVocabSize], w.tokenTypeEmbeddings);
  norm('token_embd_norm', w.embeddingNorm);
  w.layers.forEach((l, i) => {
    const p = `blk.${i}`;
    linear(`${p}.attn_q`, l.query);
    linear(`${p}.attn_k`, l.key);
    linear(`${p}.attn_v`, l.value);
    linear(`${p}.attn_output`, l.attnOutput);
    norm(`${p}.attn_output_norm`, l.attnOutputNorm);
    linear(`${p}.ffn_up`, l.ffnUp);
    linear(`${p}.ffn_down`, l.ffnDown);
    norm(`${p}.layer_output_norm`, l.layerOutputNorm);
  });
  return tensors;
}

/** Rebuilds the weights from the tensors' values as stored (after F16/Q8_0 rounding). */
function storedWeights(source: BertWeights, tensors: GgufTensorInput[]): BertWeights {
  const stored = new Map(tensors.map((t) => [t.name, roundTripValues(t.type, t.data)]));
  const get = (name: string): Float32Array => stored.get(name)!;
  const linear = (name: string, l: LinearWeights): LinearWeights => ({ ...l, weight: get(`${name}.weight`), bias: get(`${name}.bias`) });
  const norm = (name: string): NormWeights => ({ weight: get(`${name}.weight`), bias: get(`${name}.bias`) });
  return {
    config: source.config,
    tokenEmbeddings: get('token_embd.weight'),
    positionEmbeddings: get('position_embd.weight'),
    tokenTypeEmbeddings: get('token_types.weight'),
    embeddingNorm: norm('token_embd_norm'),
    layers: source.layers.map((l, i) => {
      const p = `blk.${i}`;
      return {
        query: linear(`${p}.attn_q`, l.query),
        key: linear(`${p}.attn_k`, l.key),
        value: linear(`${p}.attn_v`, l.value),
        attnOutput: linear(`${p}.attn_output`, l.attnOutput),
        attnOutputNorm: norm(`${p}.attn_output_norm`),
        ffnUp: linear(`${p}.ffn_up`, l.ffnUp),
        ffnDown: linear(`${p}.ffn_down`, l.ffnDown),
        layerOutputNorm: norm(`${p}.layer_output_norm`),
      };
    }),
  };
}

function metadata(o: SyntheticBertOptions, config: BertConfig, vocab: Array<[string, GgufValue]>): Array<[string, GgufValue]> {
  return [
    ['general.architecture', gv.str('bert')],
    ['general.type', gv.str('model')],
    ['general.name', gv.str(o.name ?? `synthetic-bert-L${config.layers}-H${config.hidden}`)],
    ['bert.block_count', gv.u32(config.layers)],
    ['bert.context_length', gv.u32(config.maxPositions)],
    ['bert.embedding_length', gv.u32(config.hidden)],
    ['bert.feed_forward_length', gv.u32(config.ffn)],
    ['bert.attention.head_count', gv.u32(config.heads)],
    ['bert.attention.layer_norm_epsilon', gv.f32(config.layerNormEps)],
    ['general.file_type', gv.u32(FILE_TYPE[o.type])],
    ['bert.attention.causal', gv.bool(false)],
    ['bert.pooling_type', gv.u32(POOLING_TYPE[config.pooling])],
    ['general.quantization_version', gv.u32(2)],
    ...vocab,
  ];
}

async function plan(options: SyntheticBertOptions) {
  checkOptions(options);
  const vocab = await readBertVocab(options.vocabGguf);
  const config: BertConfig = {
    layers: options.layers,
    hidden: options.hidden,
    heads: options.heads,
    ffn: options.ffn,
    maxPositions: options.maxPositions ?? 512,
    vocabSize: vocab.vocabSize,
    typeVocabSize: vocab.typeVocabSize,
    // the file stores a float32; the reference must use the same value
    layerNormEps: Math.fround(options.layerNormEps ?? 1e-12),
    pooling: options.pooling,
  };
  const sourceWeights = makeSource(config, options.seed);
  const tensors = toTensors(sourceWeights, options.type);
  const weights = options.type === GgmlType.F32 ? sourceWeights : storedWeights(sourceWeights, tensors);
  return { config, vocab, tensors, result: { weights, sourceWeights } };
}

/** Writes a random-weight BERT GGUF and returns the weights it holds. */
export async function writeSyntheticBert(outPath: string, options: SyntheticBertOptions): Promise<SyntheticBertResult> {
  const { config, vocab, tensors, result } = await plan(options);
  await writeGguf(outPath, metadata(options, config, vocab.entries), tensors);
  return result;
}

/** The weights writeSyntheticBert would produce for these options, without writing a file. */
export async function syntheticBertWeights(options: SyntheticBertOptions): Promise<SyntheticBertResult> {
  return (await plan(options)).result;
}
