/**
 * BGE-M3's two extra outputs from the last hidden states of one sequence, as FlagEmbedding's
 * M3Embedder computes them (inference/embedder/encoder_only/m3.py with the model's
 * _sparse_embedding and _colbert_embedding). The linear layers can run elsewhere (natively): the
 * `...From` functions take their outputs.
 */
import { applyLinear, type LinearHead } from './linear.js';

/** Token id (as a string, FlagEmbedding's key) → weight. */
export type LexicalWeights = Record<string, number>;

/**
 * ReLU(sparse_linear(h)) per token; the ids in `dropIds` (CLS, EOS, PAD, UNK) left out, only
 * weights > 0 kept, and a token that occurs more than once keeps its largest weight.
 * `states`: the sequence's token states, ids.length × hidden, row-major.
 */
export function lexicalWeights(states: Float32Array, ids: ArrayLike<number>, sparse: LinearHead, dropIds: ReadonlySet<number>): LexicalWeights {
  return lexicalWeightsFrom(applyLinear(states, ids.length, sparse), ids, dropIds);
}

/** lexicalWeights from sparse_linear's outputs (one per token). */
export function lexicalWeightsFrom(scores: ArrayLike<number>, ids: ArrayLike<number>, dropIds: ReadonlySet<number>): LexicalWeights {
  const result: LexicalWeights = {};
  for (let t = 0; t < ids.length; t++) {
    const w = scores[t]; // ReLU: only w > 0 is ever kept
    if (dropIds.has(ids[t]) || !(w > 0)) continue;
    const key = String(ids[t]);
    if (w > (result[key] ?? 0)) result[key] = w;
  }
  return result;
}

/**
 * colbert_linear(h) for every token after the first (CLS), each L2-normalized (torch's
 * F.normalize: a zero vector stays zero). FlagEmbedding keeps tokens 1..n-1 of an unpadded
 * sequence, the closing </s> included. Returns one vector per token.
 */
export function colbertVectors(states: Float32Array, length: number, hidden: number, colbert: LinearHead, truncateDim?: number): Float32Array[] {
  if (length < 2) return [];
  return colbertVectorsFrom(applyLinear(states.subarray(hidden, length * hidden), length - 1, colbert), length - 1, colbert.outFeatures, truncateDim);
}

/** colbertVectors from colbert_linear's outputs for the tokens after CLS (count × width), normalized in place. */
export function colbertVectorsFrom(rows: Float32Array, count: number, width: number, truncateDim?: number): Float32Array[] {
  const dim = Math.min(truncateDim ?? width, width); // FlagEmbedding's truncate_dim: cut, then normalize
  const vectors: Float32Array[] = [];
  for (let t = 0; t < count; t++) {
    const v = rows.subarray(t * width, t * width + dim);
    let sum = 0;
    for (let i = 0; i < dim; i++) sum += v[i] * v[i];
    const scale = 1 / Math.max(Math.sqrt(sum), 1e-12);
    for (let i = 0; i < dim; i++) v[i] *= scale;
    vectors.push(v);
  }
  return vectors;
}
