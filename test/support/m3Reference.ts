/**
 * Float64 reference of FlagEmbedding's BGE-M3 outputs for one unpadded sequence, written from
 * m3.py's definitions: dense = normalize(h[0]); lexical = max over occurrences of
 * relu(h·w_sparse + b) for ids other than CLS/EOS/PAD/UNK, kept when > 0; colbert =
 * normalize(colbert_linear(h[t])) for t = 1..n-1; and the three scores with their weighted sums.
 */
import { l2Normalize, linear } from './bertReference.js';
import type { M3Weights } from './synthetic/m3.js';
import { xlmrHiddenStates } from './xlmrReference.js';
import type { XlmrWeights } from './synthetic/xlmr.js';

export interface M3Reference {
  dense: Float64Array;
  lexical: Map<number, number>;
  colbert: Float64Array[];
}

/** XLM-R's <s>, <pad>, </s>, <unk>. */
export const XLMR_UNUSED = new Set([0, 1, 2, 3]);

export function m3Reference(w: M3Weights, ids: ArrayLike<number>): M3Reference {
  const h = xlmrHiddenStates({ encoder: w.encoder } as XlmrWeights, ids);
  const lexical = new Map<number, number>();
  const sparse = linear(h, w.sparse);
  for (let t = 0; t < ids.length; t++) {
    const weight = Math.max(0, sparse[t][0]);
    if (XLMR_UNUSED.has(ids[t]) || weight <= 0) continue;
    lexical.set(ids[t], Math.max(weight, lexical.get(ids[t]) ?? 0));
  }
  return { dense: l2Normalize(h[0]), lexical, colbert: linear(h.slice(1), w.colbert).map(l2Normalize) };
}

export function referenceScores(q: M3Reference, p: M3Reference, weights = [1, 1, 1]) {
  let dense = 0;
  for (let i = 0; i < q.dense.length; i++) dense += q.dense[i] * p.dense[i];
  let sparse = 0;
  for (const [id, wq] of q.lexical) sparse += wq * (p.lexical.get(id) ?? 0);
  let colbert = 0;
  for (const a of q.colbert) {
    colbert += Math.max(...p.colbert.map((b) => a.reduce((s, x, i) => s + x * b[i], 0)));
  }
  colbert /= q.colbert.length;
  const [wd, ws, wc] = weights;
  return { dense, sparse, colbert, 'sparse+dense': (sparse * ws + dense * wd) / (ws + wd), 'colbert+sparse+dense': (colbert * wc + sparse * ws + dense * wd) / (wd + ws + wc) };
}
