import { InvalidInputError } from '../errors.js';

type Vector = ArrayLike<number>;

function checkSameLength(a: Vector, b: Vector): void {
  if (a.length !== b.length) {
    throw new InvalidInputError(`vectors have different lengths (${a.length} vs ${b.length}); compare vectors from the same model`);
  }
}

export function dot(a: Vector, b: Vector): number {
  checkSameLength(a, b);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

export function cosineSimilarity(a: Vector, b: Vector): number {
  checkSameLength(a, b);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

/** rows[i][j] = metric(a[i], b[j]): the `embeddings_1 @ embeddings_2.T` of FlagEmbedding's examples. */
export function similarityMatrix(a: Vector[], b: Vector[], metric: 'dot' | 'cosine' = 'dot'): number[][] {
  const f = metric === 'dot' ? dot : cosineSimilarity;
  return a.map((x) => b.map((y) => f(x, y)));
}

export interface ScoredIndex {
  index: number;
  score: number;
}

/** The k corpus vectors most similar to the query, best first (ties keep corpus order). */
export function topK(query: Vector, corpus: Vector[], k: number, metric: 'dot' | 'cosine' = 'dot'): ScoredIndex[] {
  if (!Number.isInteger(k) || k < 0) throw new InvalidInputError(`topK: k must be a non-negative integer, got ${k}`);
  const f = metric === 'dot' ? dot : cosineSimilarity;
  const scored = corpus.map((v, index) => ({ index, score: f(query, v) }));
  scored.sort((x, y) => y.score - x.score || x.index - y.index);
  return scored.slice(0, k);
}
