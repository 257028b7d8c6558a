/**
 * Random-weight XLM-RoBERTa cross-encoders (XLMRobertaForSequenceClassification, e.g. bge-reranker-v2-m3)
 * in the GGUF layout llama.cpp's convert_hf_to_gguf.py writes for them: arch "bert", UGM ("t5")
 * tokenizer with XLM-R's real 250k SentencePiece vocabulary and precompiled charsmap (copied from
 * a vocab-only GGUF such as llama.cpp's models/ggml-vocab-nomic-bert-moe.gguf), the position table
 * without its first pad_token_id + 1 = 2 rows, and the RobertaClassificationHead as cls / cls.output.
 *
 * The weights are returned in Hugging Face's layout (the full position table, offset included), so a
 * reference forward pass never sees the converter's slicing.
 */
import { InvalidInputError } from '../../../src/errors.js';
import { readGguf } from '../../../src/gguf/reader.js';
import { roundTripValues } from '../../../src/gguf/quantize.js';
import { GgmlType, GgufValueType, gv, type GgufTensorInput, type GgufValue } from '../../../src/gguf/types.js';
import { writeGguf } from '../../../src/gguf/writer.js';
import { makeSource, toTensors, type BertWeights, type LinearWeights } from './bert.js';
import { deriveSeed, Rng } from './random.js';

export type XlmrType = GgmlType.F32 | GgmlType.F16;

export interface SyntheticXlmrOptions {
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  /** Longest input (the GGUF's context_length); HF's max_position_embeddings is this + 2. Default 512. */
  maxPositions?: number;
  type: XlmrType;
  seed: number;
  /** A vocab-only UGM GGUF with XLM-R's vocabulary; its tokenizer.ggml.* keys are copied. */
  vocabGguf: string;
  /** Keep the first vocabSize tokens (XLM-R: 250002; the nomic file pads to 250048). */
  vocabSize?: number;
  /** Classifier outputs (num_labels); rerankers have 1. */
  numLabels?: number;
  layerNormEps?: number; // default 1e-5 (XLM-R)
  name?: string;
}

/** XLM-R's padding_idx is 1: position ids start at padding_idx + 1. */
export const XLMR_POSITION_OFFSET = 2;

export interface XlmrWeights {
  /** The encoder; positionEmbeddings is HF's full table of maxPositions + 2 rows (row 0 and 1 unused). */
  encoder: BertWeights;
  /** RobertaClassificationHead: dense (hidden → hidden) → tanh → out_proj (hidden → numLabels), on the first token. */
  classifier: { dense: LinearWeights; outProj: LinearWeights };
}

export interface SyntheticXlmrResult {
  weights: XlmrWeights;
  vocabSize: number;
}

const MATRIX_STD = 0.08;
const BIAS_STD = 0.02;
const RANK_POOLING = 4; // llama.cpp LLAMA_POOLING_TYPE_RANK
const FILE_TYPE: Record<XlmrType, number> = { [GgmlType.F32]: 0, [GgmlType.F16]: 1 };

function check(o: SyntheticXlmrOptions): void {
  for (const key of ['layers', 'hidden', 'heads', 'ffn'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) throw new InvalidInputError(`synthetic XLM-R: ${key} must be a positive integer`);
  }
  if (o.hidden % o.heads !== 0) throw new InvalidInputError('synthetic XLM-R: hidden must be a multiple of heads');
  if (o.type !== GgmlType.F32 && o.type !== GgmlType.F16) throw new InvalidInputError('synthetic XLM-R: type must be F32 or F16');
}

/**
 * The tokenizer.ggml.* entries of a UGM vocab GGUF, the per-token arrays cut to vocabSize. A special
 * id the cut leaves out (XLM-R's <mask> is its last token, 250001) takes one of the last slots of the
 * cut vocabulary with its text, score and type, as a real vocabulary keeps every special token in range.
 */
export async function readUgmVocab(path: string, vocabSize?: number): Promise<{ entries: Array<[string, GgufValue]>; vocabSize: number }> {
  const file = await readGguf(path);
  const model = file.metadata.get('tokenizer.ggml.model')?.value;
  if (model !== 't5') throw new InvalidInputError(`${path}: tokenizer.ggml.model is ${String(model)}, a UGM vocab ("t5") is needed`);
  const tokens = file.metadata.get('tokenizer.ggml.tokens');
  if (!tokens || tokens.type !== GgufValueType.ARRAY) throw new InvalidInputError(`${path}: no tokenizer.ggml.tokens`);
  const size = Math.min(vocabSize ?? tokens.value.length, tokens.value.length);
  const perToken = new Set(['tokenizer.ggml.tokens', 'tokenizer.ggml.scores', 'tokenizer.ggml.token_type']);
  const cutIds = [...file.metadata]
    .filter(([key, v]) => /^tokenizer\.ggml\.\w+_token_id$/.test(key) && v.type !== GgufValueType.ARRAY && Number(v.value) >= size)
    .map(([key, v]) => [key, Number(v.value)] as const);
  if (cutIds.length > size) throw new InvalidInputError(`${path}: vocabSize ${size} leaves no room for the special tokens`);
  const slot = new Map(cutIds.map(([key], i) => [key, size - cutIds.length + i]));
  const entries: Array<[string, GgufValue]> = [...file.metadata]
    .filter(([key]) => key.startsWith('tokenizer.ggml.'))
    .map(([key, value]) => {
      if (slot.has(key)) return [key, { ...value, value: slot.get(key)! } as GgufValue];
      if (!perToken.has(key) || value.type !== GgufValueType.ARRAY) return [key, value];
      const items = value.value.slice(0, size);
      for (const [idKey, id] of cutIds) items[slot.get(idKey)!] = value.value[id];
      return [key, { ...value, value: items } as GgufValue];
    });
  return { entries, vocabSize: size };
}

function makeWeights(o: SyntheticXlmrOptions, vocabSize: number): XlmrWeights {
  const maxPositions = (o.maxPositions ?? 512) + XLMR_POSITION_OFFSET;
  const encoder = makeSource(
    {
      layers: o.layers,
      hidden: o.hidden,
      heads: o.heads,
      ffn: o.ffn,
      maxPositions,
      vocabSize,
      typeVocabSize: 1,
      layerNormEps: Math.fround(o.layerNormEps ?? 1e-5), // the file stores a float32
      pooling: 'cls',
    },
    o.seed,
  );
  const linear = (name: string, inFeatures: number, outFeatures: number): LinearWeights => ({
    weight: new Rng(deriveSeed(o.seed, `${name}.weight`)).normalArray(inFeatures * outFeatures, 0, MATRIX_STD),
    bias: new Rng(deriveSeed(o.seed, `${name}.bias`)).normalArray(outFeatures, 0, BIAS_STD),
    inFeatures,
    outFeatures,
  });
  return {
    encoder,
    classifier: { dense: linear('classifier.dense', o.hidden, o.hidden), outProj: linear('classifier.out_proj', o.hidden, o.numLabels ?? 1) },
  };
}

function tensorsOf(w: XlmrWeights, type: XlmrType): GgufTensorInput[] {
  const { hidden, maxPositions } = w.encoder.config;
  const tensors = toTensors(w.encoder, type).map((t) =>
    t.name === 'position_embd.weight'
      ? { ...t, shape: [hidden, maxPositions - XLMR_POSITION_OFFSET], data: t.data.slice(XLMR_POSITION_OFFSET * hidden) }
      : t,
  );
  const { dense, outProj } = w.classifier;
  tensors.push(
    { name: 'cls.weight', shape: [hidden, hidden], type, data: dense.weight },
    { name: 'cls.bias', shape: [hidden], type: GgmlType.F32, data: dense.bias },
    { name: 'cls.output.weight', shape: [hidden, outProj.outFeatures], type, data: outProj.weight },
    { name: 'cls.output.bias', shape: [outProj.outFeatures], type: GgmlType.F32, data: outProj.bias },
  );
  return tensors;
}

/** The weights after the file's F16 rounding (what llama.cpp computes with). */
function stored(w: XlmrWeights, tensors: GgufTensorInput[], type: XlmrType): XlmrWeights {
  if (type === GgmlType.F32) return w;
  const round = (data: Float32Array) => roundTripValues(type, data);
  const linear = (l: LinearWeights): LinearWeights => ({ ...l, weight: round(l.weight) });
  const e = w.encoder;
  const matrixNames = new Set(tensors.filter((t) => t.type === type).map((t) => t.name));
  return {
    encoder: {
      ...e,
      tokenEmbeddings: matrixNames.has('token_embd.weight') ? round(e.tokenEmbeddings) : e.tokenEmbeddings,
      layers: e.layers.map((l) => ({
        ...l,
        query: linear(l.query),
        key: linear(l.key),
        value: linear(l.value),
        attnOutput: linear(l.attnOutput),
        ffnUp: linear(l.ffnUp),
        ffnDown: linear(l.ffnDown),
      })),
    },
    classifier: { dense: linear(w.classifier.dense), outProj: linear(w.classifier.outProj) },
  };
}

function metadata(o: SyntheticXlmrOptions, w: XlmrWeights, vocab: Array<[string, GgufValue]>): Array<[string, GgufValue]> {
  const c = w.encoder.config;
  const labels = Array.from({ length: w.classifier.outProj.outFeatures }, (_, i) => `LABEL_${i}`);
  return [
    ['general.architecture', gv.str('bert')],
    ['general.type', gv.str('model')],
    ['general.name', gv.str(o.name ?? `synthetic-xlmr-reranker-L${c.layers}-H${c.hidden}`)],
    ['bert.block_count', gv.u32(c.layers)],
    ['bert.context_length', gv.u32(c.maxPositions - XLMR_POSITION_OFFSET)],
    ['bert.embedding_length', gv.u32(c.hidden)],
    ['bert.feed_forward_length', gv.u32(c.ffn)],
    ['bert.attention.head_count', gv.u32(c.heads)],
    ['bert.attention.layer_norm_epsilon', gv.f32(c.layerNormEps)],
    ['general.file_type', gv.u32(FILE_TYPE[o.type])],
    ['bert.attention.causal', gv.bool(false)],
    ['bert.pooling_type', gv.u32(RANK_POOLING)],
    ['bert.classifier.output_labels', gv.strs(labels)],
    ['general.quantization_version', gv.u32(2)],
    ...vocab,
  ];
}

/** Writes a random-weight XLM-R reranker GGUF and returns its weights (HF layout, as stored). */
export async function writeSyntheticXlmr(outPath: string, options: SyntheticXlmrOptions): Promise<SyntheticXlmrResult> {
  check(options);
  const vocab = await readUgmVocab(options.vocabGguf, options.vocabSize ?? 250002);
  const source = makeWeights(options, vocab.vocabSize);
  const tensors = tensorsOf(source, options.type);
  await writeGguf(outPath, metadata(options, source, vocab.entries), tensors);
  return { weights: stored(source, tensors, options.type), vocabSize: vocab.vocabSize };
}

/** The weights writeSyntheticXlmr would produce, without writing a file. */
export async function syntheticXlmrWeights(options: SyntheticXlmrOptions): Promise<SyntheticXlmrResult> {
  check(options);
  const vocab = await readUgmVocab(options.vocabGguf, options.vocabSize ?? 250002);
  const source = makeWeights(options, vocab.vocabSize);
  return { weights: stored(source, tensorsOf(source, options.type), options.type), vocabSize: vocab.vocabSize };
}
