/**
 * BGE-M3's relevance scores, as FlagEmbedding's M3Embedder computes them
 * (compute_lexical_matching_score, colbert_score, and compute_score's weighted sums).
 */
import { InvalidInputError } from '../errors.js';
import type { LexicalWeights } from '../heads/m3.js';

/** Σ over the tokens both hold of weight₁ × weight₂; for two lists, the matrix of every pair. */
export function computeLexicalMatchingScore(a: LexicalWeights, b: LexicalWeights): number;
export function computeLexicalMatchingScore(a: LexicalWeights[], b: LexicalWeights[]): number[][];
export function computeLexicalMatchingScore(a: LexicalWeights | LexicalWeights[], b: LexicalWeights | LexicalWeights[]): number | number[][] {
  if (Array.isArray(a) && Array.isArray(b)) return a.map((x) => b.map((y) => lexicalScore(x, y)));
  if (isWeights(a) && isWeights(b)) return lexicalScore(a, b);
  throw new InvalidInputError('computeLexicalMatchingScore: pass two lexical-weight objects, or two arrays of them');
}

function isWeights(value: unknown): value is LexicalWeights {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lexicalScore(a: LexicalWeights, b: LexicalWeights): number {
  let score = 0;
  for (const token of Object.keys(a)) {
    if (Object.prototype.hasOwnProperty.call(b, token)) score += a[token] * b[token];
  }
  return score;
}

/** Late interaction: for each query vector the best dot product over the passage's, averaged over the query's vectors. */
export function colbertScore(query: ArrayLike<number>[], passage: ArrayLike<number>[]): number {
  if (!Array.isArray(query) || !Array.isArray(passage)) throw new InvalidInputError('colbertScore: pass two arrays of vectors');
  let sum = 0;
  for (const q of query) {
    let best = -Infinity;
    for (const p of passage) {
      if (p.length !== q.length) throw new InvalidInputError(`colbertScore: vectors of ${q.length} and ${p.length} dimensions`);
      let dot = 0;
      for (let i = 0; i < q.length; i++) dot += q[i] * p[i];
      if (dot > best) best = dot;
    }
    sum += best;
  }
  return sum / query.length;
}

export interface M3PairScores {
  colbert: number;
  sparse: number;
  dense: number;
  'sparse+dense': number;
  'colbert+sparse+dense': number;
}

/** compute_score's combinations; `weights` = [dense, sparse, colbert] (FlagEmbedding's default [1, 1, 1]). */
export function combineM3Scores(dense: number, sparse: number, colbert: number, weights: readonly number[] = [1, 1, 1]): M3PairScores {
  if (!Array.isArray(weights) || weights.length !== 3 || !weights.every((w) => typeof w === 'number' && Number.isFinite(w))) {
    throw new InvalidInputError('weightsForDifferentModes must be three finite numbers: [dense, sparse, colbert]');
  }
  const [wd, ws, wc] = weights;
  return {
    colbert,
    sparse,
    dense,
    'sparse+dense': (sparse * ws + dense * wd) / (ws + wd),
    'colbert+sparse+dense': (colbert * wc + sparse * ws + dense * wd) / (wc + ws + wd),
  };
}
