/**
 * Random-weight BGE-M3 laid out as BAAI publishes it, at toy size: the XLM-RoBERTa encoder as the GGUF
 * llama.cpp's converter writes (arch "bert", CLS pooling, XLM-R's real 250k UGM vocabulary, the
 * position table without its first 2 rows), and the two heads as torch.save files
 * (colbert_linear.pt: hidden → colbertDim, sparse_linear.pt: hidden → 1) in a checkpoint folder.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { f16BitsToF32, f32ToF16Bits } from '../../../src/gguf/quantize.js';
import { GgmlType, gv, type GgufValue } from '../../../src/gguf/types.js';
import { writeGguf } from '../../../src/gguf/writer.js';
import { makeSource, toTensors, type BertWeights, type LinearWeights } from './bert.js';
import { deriveSeed, Rng } from './random.js';
import { readUgmVocab, XLMR_POSITION_OFFSET } from './xlmr.js';
import { writeTorchStateDict } from '../torchFixture.js';

export interface SyntheticM3Options {
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  /** Longest input (context_length); bge-m3: 8192. */
  maxPositions: number;
  seed: number;
  vocabGguf: string;
  /** colbert_linear's outputs (bge-m3: hidden). */
  colbertDim?: number;
  /** Keep the first vocabSize pieces (default: all of XLM-R's 250002). */
  vocabSize?: number;
  /** Storage type of the .pt heads (bge-m3 ships float16). */
  headsDtype?: 'float32' | 'float16';
}

export interface M3Weights {
  encoder: BertWeights;
  colbert: LinearWeights;
  sparse: LinearWeights;
}

const CLS_POOLING = 2;

function linear(seed: number, name: string, inFeatures: number, outFeatures: number, std: number): LinearWeights {
  return {
    weight: new Rng(deriveSeed(seed, `${name}.weight`)).normalArray(inFeatures * outFeatures, 0, std),
    bias: new Rng(deriveSeed(seed, `${name}.bias`)).normalArray(outFeatures, 0, 0.02),
    inFeatures,
    outFeatures,
  };
}

/** Writes `<dir>/model.gguf`, `<dir>/colbert_linear.pt`, `<dir>/sparse_linear.pt`; returns the weights (F32, as stored). */
export async function writeSyntheticM3(dir: string, o: SyntheticM3Options): Promise<{ modelPath: string; weights: M3Weights; vocabSize: number }> {
  mkdirSync(dir, { recursive: true });
  const vocab = await readUgmVocab(o.vocabGguf, o.vocabSize ?? 250002);
  const maxPositions = o.maxPositions + XLMR_POSITION_OFFSET;
  const encoder = makeSource(
    { layers: o.layers, hidden: o.hidden, heads: o.heads, ffn: o.ffn, maxPositions, vocabSize: vocab.vocabSize, typeVocabSize: 1, layerNormEps: Math.fround(1e-5), pooling: 'cls' },
    o.seed,
  );
  const tensors = toTensors(encoder, GgmlType.F32).map((t) =>
    t.name === 'position_embd.weight' ? { ...t, shape: [o.hidden, o.maxPositions], data: t.data.slice(XLMR_POSITION_OFFSET * o.hidden) } : t,
  );
  const metadata: Array<[string, GgufValue]> = [
    ['general.architecture', gv.str('bert')],
    ['general.name', gv.str(`synthetic-bge-m3-L${o.layers}-H${o.hidden}`)],
    ['bert.block_count', gv.u32(o.layers)],
    ['bert.context_length', gv.u32(o.maxPositions)],
    ['bert.embedding_length', gv.u32(o.hidden)],
    ['bert.feed_forward_length', gv.u32(o.ffn)],
    ['bert.attention.head_count', gv.u32(o.heads)],
    ['bert.attention.layer_norm_epsilon', gv.f32(encoder.config.layerNormEps)],
    ['general.file_type', gv.u32(0)],
    ['bert.attention.causal', gv.bool(false)],
    ['bert.pooling_type', gv.u32(CLS_POOLING)],
    ['general.quantization_version', gv.u32(2)],
    ...vocab.entries,
  ];
  const modelPath = join(dir, 'model.gguf');
  await writeGguf(modelPath, metadata, tensors);

  const dtype = o.headsDtype ?? 'float32';
  const round = (v: Float32Array) => (dtype === 'float16' ? Float32Array.from(v, (x) => f16BitsToF32(f32ToF16Bits(x))) : v);
  const rounded = (l: LinearWeights): LinearWeights => ({ ...l, weight: round(l.weight), bias: round(l.bias) });
  const colbert = rounded(linear(o.seed, 'colbert_linear', o.hidden, o.colbertDim ?? o.hidden, 0.15));
  // bge-m3's lexical weights are mostly 0-0.3: a head of that scale (hidden states here have unit RMS)
  const sparse = rounded(linear(o.seed, 'sparse_linear', o.hidden, 1, 0.04));
  for (const [name, head] of [['colbert_linear', colbert], ['sparse_linear', sparse]] as const) {
    writeTorchStateDict(join(dir, `${name}.pt`), name, [
      { name: 'weight', shape: [head.outFeatures, head.inFeatures], values: head.weight, dtype },
      { name: 'bias', shape: [head.outFeatures], values: head.bias, dtype },
    ]);
  }
  return { modelPath, weights: { encoder, colbert, sparse }, vocabSize: vocab.vocabSize };
}
