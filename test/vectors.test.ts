import { describe, expect, it } from 'vitest';
import { cosineSimilarity, dot, similarityMatrix, topK } from '../src/vectors/similarity.js';
import { l2NormalizeInPlace, postprocess } from '../src/vectors/normalize.js';
import { InvalidInputError } from '../src/errors.js';

describe('vectors', () => {
  it('normalizes to unit length and leaves a zero vector at zero', () => {
    const v = l2NormalizeInPlace(Float32Array.from([3, 4]));
    expect(Array.from(v)).toEqual([0.6000000238418579, 0.800000011920929]);
    expect(Array.from(l2NormalizeInPlace(new Float32Array(3)))).toEqual([0, 0, 0]);
  });

  it('truncateDim keeps the leading dimensions, then normalizes', () => {
    const v = postprocess(Float32Array.from([3, 4, 100]), { truncateDim: 2, normalize: true });
    expect(v.length).toBe(2);
    expect(v[0]).toBeCloseTo(0.6, 6);
    expect(v[1]).toBeCloseTo(0.8, 6);
  });

  it('computes dot, cosine and the similarity matrix', () => {
    const a = [1, 0];
    const b = [1, 1];
    expect(dot(a, b)).toBe(1);
    expect(cosineSimilarity(a, b)).toBeCloseTo(Math.SQRT1_2, 12);
    expect(similarityMatrix([a, b], [a], 'dot')).toEqual([[1], [1]]);
    expect(similarityMatrix([a, b], [b], 'cosine')[0][0]).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('topK returns the best k, best first', () => {
    const corpus = [[0, 1], [1, 0], [0.7, 0.7], [-1, 0]];
    expect(topK([1, 0], corpus, 2).map((r) => r.index)).toEqual([1, 2]);
    expect(topK([1, 0], corpus, 10)).toHaveLength(4);
  });

  it('rejects mismatched dimensions and bad k with typed errors', () => {
    expect(() => dot([1, 2], [1])).toThrow(InvalidInputError);
    expect(() => topK([1], [[1]], -1)).toThrow(InvalidInputError);
  });
});
