/**
 * Independent float64 forward pass of Hugging Face's BertModel (post-LayerNorm encoder,
 * exact erf GELU, token type 0, no padding), with CLS / mean pooling and L2 normalization.
 * Written from the model's definition, not from llama.cpp, so the two can be compared.
 */
import type { BertWeights, LinearWeights, NormWeights } from './synthetic/bert.js';

const TWO_OVER_SQRT_PI = 1.1283791670955126;

/**
 * erf(x) to ~1e-15 absolute: erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1)),
 * a series of positive terms (no cancellation); |erf| = 1 in float64 beyond |x| = 6.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  const x2 = ax * ax;
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 500; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.sign(x) * TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** HF "gelu" (the exact one): x * Phi(x). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

export type Matrix = Float64Array[]; // one row per token

export function linear(input: Matrix, l: LinearWeights): Matrix {
  const { inFeatures, outFeatures, weight, bias } = l;
  return input.map((x) => {
    const y = new Float64Array(outFeatures);
    for (let o = 0; o < outFeatures; o++) {
      let s = bias[o];
      const row = o * inFeatures;
      for (let i = 0; i < inFeatures; i++) s += weight[row + i] * x[i];
      y[o] = s;
    }
    return y;
  });
}

export function layerNorm(x: Float64Array, n: NormWeights, eps: number): Float64Array {
  const d = x.length;
  let mean = 0;
  for (let i = 0; i < d; i++) mean += x[i];
  mean /= d;
  let variance = 0;
  for (let i = 0; i < d; i++) variance += (x[i] - mean) ** 2;
  variance /= d;
  const inv = 1 / Math.sqrt(variance + eps);
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) y[i] = (x[i] - mean) * inv * n.weight[i] + n.bias[i];
  return y;
}

function addRows(a: Matrix, b: Matrix): Matrix {
  return a.map((row, t) => row.map((v, i) => v + b[t][i]));
}

function selfAttention(h: Matrix, q: Matrix, k: Matrix, v: Matrix, heads: number): Matrix {
  const T = h.length;
  const dim = q[0].length;
  const headDim = dim / heads;
  const scale = 1 / Math.sqrt(headDim);
  const out: Matrix = Array.from({ length: T }, () => new Float64Array(dim));
  const scores = new Float64Array(T);
  for (let head = 0; head < heads; head++) {
    const off = head * headDim;
    for (let i = 0; i < T; i++) {
      let max = -Infinity;
      for (let j = 0; j < T; j++) {
        let s = 0;
        for (let c = 0; c < headDim; c++) s += q[i][off + c] * k[j][off + c];
        scores[j] = s * scale;
        if (scores[j] > max) max = scores[j];
      }
      let total = 0;
      for (let j = 0; j < T; j++) {
        scores[j] = Math.exp(scores[j] - max);
        total += scores[j];
      }
      const o = out[i];
      for (let j = 0; j < T; j++) {
        const p = scores[j] / total;
        for (let c = 0; c < headDim; c++) o[off + c] += p * v[j][off + c];
      }
    }
  }
  return out;
}

/** Last hidden state, one float64 row per token, for one sequence of token ids. */
export function bertHiddenStates(w: BertWeights, ids: ArrayLike<number>): Matrix {
  const { hidden, maxPositions, vocabSize, layerNormEps: eps } = w.config;
  if (ids.length < 1 || ids.length > maxPositions) throw new Error(`sequence length ${ids.length} outside 1..${maxPositions}`);
  const h: Matrix = [];
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`token id ${id} outside the vocabulary`);
    const e = new Float64Array(hidden);
    for (let i = 0; i < hidden; i++) {
      e[i] = w.tokenEmbeddings[id * hidden + i] + w.positionEmbeddings[t * hidden + i] + w.tokenTypeEmbeddings[i];
    }
    h.push(layerNorm(e, w.embeddingNorm, eps));
  }
  return bertEncoderLayers(w, h);
}

/** The encoder layers on embedded tokens (after the embedding LayerNorm): the last hidden state. */
export function bertEncoderLayers(w: BertWeights, embedded: Matrix): Matrix {
  const { layerNormEps: eps, heads } = w.config;
  let h = embedded;
  for (const layer of w.layers) {
    const context = selfAttention(h, linear(h, layer.query), linear(h, layer.key), linear(h, layer.value), heads);
    const attn = addRows(linear(context, layer.attnOutput), h).map((r) => layerNorm(r, layer.attnOutputNorm, eps));
    const up = linear(attn, layer.ffnUp).map((r) => r.map(gelu));
    h = addRows(linear(up, layer.ffnDown), attn).map((r) => layerNorm(r, layer.layerOutputNorm, eps));
  }
  return h;
}

export function l2Normalize(v: Float64Array): Float64Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  return n > 0 ? v.map((x) => x / n) : v.slice();
}

/** CLS: the hidden state at position 0. Mean: the average over every token of the sequence (no padding here). */
export function pool(h: Matrix, pooling: 'cls' | 'mean'): Float64Array {
  if (pooling === 'cls') return h[0].slice();
  const out = new Float64Array(h[0].length);
  for (const row of h) for (let i = 0; i < row.length; i++) out[i] += row[i] / h.length;
  return out;
}

/** Both pooled, L2-normalized embeddings of one sequence (one forward pass). */
export function referenceEmbeddings(w: BertWeights, ids: ArrayLike<number>): { cls: Float64Array; mean: Float64Array } {
  const h = bertHiddenStates(w, ids);
  return { cls: l2Normalize(pool(h, 'cls')), mean: l2Normalize(pool(h, 'mean')) };
}

export { cosineSimilarity as cosine } from '../../src/vectors/similarity.js';

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
