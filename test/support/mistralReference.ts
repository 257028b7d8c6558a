/**
 * Independent float64 forward pass of a Hugging Face MistralModel (what bge-en-icl runs), written
 * from the architecture: token embeddings → per layer [RMSNorm → GQA causal self-attention with
 * rotate-half RoPE → residual → RMSNorm → SwiGLU → residual] → final RMSNorm. Weights in HF layout
 * (q/k un-permuted), so agreement with llama.cpp also checks the converter's Q/K permutation.
 */
import type { MistralLinear, MistralWeights } from './synthetic/mistral.js';

/** y = W x for a PyTorch [out, in] weight. */
function linear(l: MistralLinear, x: Float64Array): Float64Array {
  const y = new Float64Array(l.outFeatures);
  for (let o = 0; o < l.outFeatures; o++) {
    let s = 0;
    const row = o * l.inFeatures;
    for (let i = 0; i < l.inFeatures; i++) s += l.weight[row + i] * x[i];
    y[o] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, weight: Float32Array, eps: number): Float64Array {
  let sumSquares = 0;
  for (const v of x) sumSquares += v * v;
  const scale = 1 / Math.sqrt(sumSquares / x.length + eps);
  return x.map((v, i) => v * scale * weight[i]);
}

/** HF apply_rotary_pos_emb: pairs (i, i + d/2) of each head rotate by pos * theta^(-2i/d). */
function rotateHalf(vec: Float64Array, nHeads: number, headDim: number, position: number, theta: number): void {
  const half = headDim / 2;
  for (let h = 0; h < nHeads; h++) {
    const base = h * headDim;
    for (let i = 0; i < half; i++) {
      const angle = position * Math.pow(theta, (-2 * i) / headDim);
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      const a = vec[base + i];
      const b = vec[base + i + half];
      vec[base + i] = a * cos - b * sin;
      vec[base + i + half] = b * cos + a * sin;
    }
  }
}

const silu = (v: number): number => v / (1 + Math.exp(-v));

/** Final hidden states (after the last RMSNorm) of every position of one sequence. */
export function mistralHiddenStates(w: MistralWeights, tokenIds: ArrayLike<number>): Float64Array[] {
  const { hidden, heads, kvHeads, headDim, rmsEps, ropeTheta, vocabSize } = w.config;
  const n = tokenIds.length;
  const group = heads / kvHeads;
  let x: Float64Array[] = Array.from({ length: n }, (_, t) => {
    const id = tokenIds[t];
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`token id ${id} outside the vocabulary`);
    return Float64Array.from(w.tokenEmbeddings.subarray(id * hidden, (id + 1) * hidden));
  });
  for (const layer of w.layers) {
    const normed = x.map((v) => rmsNorm(v, layer.attnNorm, rmsEps));
    const q = normed.map((v, t) => {
      const out = linear(layer.q, v);
      rotateHalf(out, heads, headDim, t, ropeTheta);
      return out;
    });
    const k = normed.map((v, t) => {
      const out = linear(layer.k, v);
      rotateHalf(out, kvHeads, headDim, t, ropeTheta);
      return out;
    });
    const v = normed.map((row) => linear(layer.v, row));
    const scale = 1 / Math.sqrt(headDim);
    x = x.map((residual, t) => {
      const attn = new Float64Array(heads * headDim);
      for (let h = 0; h < heads; h++) {
        const g = Math.floor(h / group);
        const scores = new Float64Array(t + 1); // causal: positions 0..t
        let max = -Infinity;
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += q[t][h * headDim + d] * k[s][g * headDim + d];
          scores[s] = dot * scale;
          max = Math.max(max, scores[s]);
        }
        let total = 0;
        for (let s = 0; s <= t; s++) total += (scores[s] = Math.exp(scores[s] - max));
        for (let s = 0; s <= t; s++) {
          const p = scores[s] / total;
          for (let d = 0; d < headDim; d++) attn[h * headDim + d] += p * v[s][g * headDim + d];
        }
      }
      const projected = linear(layer.o, attn);
      return residual.map((r, i) => r + projected[i]);
    });
    x = x.map((residual) => {
      const h = rmsNorm(residual, layer.ffnNorm, rmsEps);
      const gate = linear(layer.gate, h);
      const up = linear(layer.up, h);
      const down = linear(layer.down, gate.map((g, i) => silu(g) * up[i]));
      return residual.map((r, i) => r + down[i]);
    });
  }
  return x.map((v) => rmsNorm(v, w.outputNorm, rmsEps));
}

/** bge-en-icl's embedding: the last token's final hidden state, L2-normalized unless told not to. */
export function mistralEmbedding(w: MistralWeights, tokenIds: ArrayLike<number>, normalize = true): Float64Array {
  const states = mistralHiddenStates(w, tokenIds);
  const last = states[states.length - 1];
  if (!normalize) return last;
  const norm = Math.sqrt(last.reduce((s, v) => s + v * v, 0));
  return last.map((v) => v / norm);
}

export { cosineSimilarity as cosine } from '../../src/vectors/similarity.js';
