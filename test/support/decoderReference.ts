/**
 * Independent float64 forward passes of Hugging Face's Qwen2Model and Gemma2Model, written from the
 * architectures (transformers' modeling_qwen2.py / modeling_gemma2.py), on weights in HF layout:
 * - Qwen2: RMSNorm(x)·w → GQA causal attention with Q/K/V biases and rotate-half RoPE → residual →
 *   RMSNorm → SwiGLU → residual; final RMSNorm.
 * - Gemma2: embeddings × sqrt(hidden); RMSNorm(x)·(1 + w); attention scaled by
 *   query_pre_attn_scalar^-0.5 (= head size), logits soft-capped as cap·tanh(s / cap), then
 *   post-attention norm before the residual; pre-/post-feed-forward norms around a
 *   GELU(tanh)-gated MLP; final norm.
 * The embedding is the last position's final hidden state (last-token pooling).
 */
import type { DecoderLinear, DecoderWeights } from './synthetic/decoders.js';

function linear(l: DecoderLinear, x: Float64Array): Float64Array {
  const y = new Float64Array(l.outFeatures);
  for (let o = 0; o < l.outFeatures; o++) {
    let s = l.bias ? l.bias[o] : 0;
    const row = o * l.inFeatures;
    for (let i = 0; i < l.inFeatures; i++) s += l.weight[row + i] * x[i];
    y[o] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, weight: Float32Array, eps: number, onePlus: boolean): Float64Array {
  let sum = 0;
  for (const v of x) sum += v * v;
  const scale = 1 / Math.sqrt(sum / x.length + eps);
  return x.map((v, i) => v * scale * (onePlus ? 1 + weight[i] : weight[i]));
}

function rope(vec: Float64Array, nHeads: number, headDim: number, position: number, theta: number): void {
  const half = headDim / 2;
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; i < half; i++) {
      const angle = position * Math.pow(theta, (-2 * i) / headDim);
      const [cos, sin] = [Math.cos(angle), Math.sin(angle)];
      const a = vec[h * headDim + i];
      const b = vec[h * headDim + i + half];
      vec[h * headDim + i] = a * cos - b * sin;
      vec[h * headDim + i + half] = b * cos + a * sin;
    }
  }
}

const silu = (v: number) => v / (1 + Math.exp(-v));
const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));

export function decoderHiddenStates(w: DecoderWeights, ids: ArrayLike<number>): Float64Array[] {
  const { hidden, heads, kvHeads, headDim, rmsEps, ropeTheta, attnSoftcap } = w.config;
  const gemma = w.arch === 'gemma2';
  const group = heads / kvHeads;
  const norm = (x: Float64Array, weight: Float32Array) => rmsNorm(x, weight, rmsEps, gemma);
  const scale = gemma ? Math.sqrt(hidden) : 1;
  let x = Array.from(ids, (id) => Float64Array.from(w.tokenEmbeddings.subarray(id * hidden, (id + 1) * hidden), (v) => v * scale));
  for (const layer of w.layers) {
    const h = x.map((v) => norm(v, layer.inputNorm));
    const q = h.map((v, t) => {
      const out = linear(layer.q, v);
      rope(out, heads, headDim, t, ropeTheta);
      return out;
    });
    const k = h.map((v, t) => {
      const out = linear(layer.k, v);
      rope(out, kvHeads, headDim, t, ropeTheta);
      return out;
    });
    const v = h.map((row) => linear(layer.v, row));
    x = x.map((residual, t) => {
      const attn = new Float64Array(heads * headDim);
      for (let hd = 0; hd < heads; hd++) {
        const g = Math.floor(hd / group);
        const scores = new Float64Array(t + 1);
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += q[t][hd * headDim + d] * k[s][g * headDim + d];
          dot /= Math.sqrt(headDim);
          scores[s] = gemma ? attnSoftcap * Math.tanh(dot / attnSoftcap) : dot;
        }
        const max = Math.max(...scores);
        let total = 0;
        for (let s = 0; s <= t; s++) total += scores[s] = Math.exp(scores[s] - max);
        for (let s = 0; s <= t; s++) {
          for (let d = 0; d < headDim; d++) attn[hd * headDim + d] += (scores[s] / total) * v[s][g * headDim + d];
        }
      }
      let out = linear(layer.o, attn);
      if (layer.postAttentionNorm) out = norm(out, layer.postAttentionNorm);
      return residual.map((r, i) => r + out[i]);
    });
    x = x.map((residual) => {
      const hh = norm(residual, layer.preFfnNorm);
      const gate = linear(layer.gate, hh);
      const up = linear(layer.up, hh);
      let out = linear(layer.down, gate.map((gv, i) => (gemma ? geluTanh(gv) : silu(gv)) * up[i]));
      if (layer.postFfnNorm) out = norm(out, layer.postFfnNorm);
      return residual.map((r, i) => r + out[i]);
    });
  }
  return x.map((row) => norm(row, w.finalNorm));
}

/** Last-token pooling, L2-normalized. */
export function decoderEmbedding(w: DecoderWeights, ids: ArrayLike<number>): Float64Array {
  const states = decoderHiddenStates(w, ids);
  const last = states[states.length - 1];
  const n = Math.sqrt(last.reduce((s, v) => s + v * v, 0));
  return last.map((v) => v / n);
}
