/** The M3 heads and scores as pure functions, on hand-worked cases. */
import { describe, expect, it } from 'vitest';
import { applyLinear, colbertVectors, lexicalWeights } from '../src/heads/index.js';
import { colbertScore, combineM3Scores, computeLexicalMatchingScore } from '../src/vectors/m3Scores.js';
import { BgeGgufError } from '../src/errors.js';

const head = (weight: number[], bias: number[], inFeatures: number) => ({ weight: Float32Array.from(weight), bias: Float32Array.from(bias), inFeatures, outFeatures: bias.length });

describe('M3 heads', () => {
  it('applyLinear is x·Wᵀ + b for any row count (4-row blocks and the rest)', () => {
    const w = head([1, 2, 3, 4, 5, 6], [0.5, -1], 3); // 2 × 3
    const rows = Float32Array.from({ length: 7 * 3 }, (_, i) => i - 5);
    const out = applyLinear(rows, 7, w);
    for (let r = 0; r < 7; r++) {
      const x = rows.subarray(r * 3, r * 3 + 3);
      expect(out[r * 2]).toBeCloseTo(x[0] + 2 * x[1] + 3 * x[2] + 0.5, 5);
      expect(out[r * 2 + 1]).toBeCloseTo(4 * x[0] + 5 * x[1] + 6 * x[2] - 1, 5);
    }
  });

  it('lexical weights: ReLU, special ids dropped, zero weights left out, the max kept for a repeated token', () => {
    const sparse = head([1, 0], [0], 2); // weight = first component of the state
    const ids = [0, 7, 8, 7, 9, 3, 2];
    const states = Float32Array.from([5, 0, 0.2, 0, -1, 0, 0.6, 0, 0, 0, 9, 0, 9, 0]);
    expect(lexicalWeights(states, ids, sparse, new Set([0, 1, 2, 3]))).toEqual({ '7': Math.fround(0.6) });
  });

  it('ColBERT vectors: every token after the first, L2-normalized; a zero vector stays zero', () => {
    const identity = head([1, 0, 0, 1], [0, 0], 2);
    const states = Float32Array.from([9, 9, 3, 4, 0, 0, 0, -2]);
    const v = colbertVectors(states, 4, 2, identity);
    expect(v.map((x) => Array.from(x))).toEqual([[0.6000000238418579, 0.800000011920929], [0, 0], [0, -1]]);
    expect(colbertVectors(states, 4, 2, identity, 1).map((x) => Array.from(x))).toEqual([[1], [0], [0]]);
  });
});

describe('M3 scores', () => {
  it('lexical matching: Σ over shared tokens; two lists give the matrix', () => {
    const a = { '1': 0.5, '2': 0.25 };
    const b = { '2': 2, '3': 1 };
    expect(computeLexicalMatchingScore(a, b)).toBe(0.5);
    expect(computeLexicalMatchingScore([a, b], [a, b])).toEqual([[0.3125, 0.5], [0.5, 5]]);
    expect(() => computeLexicalMatchingScore(a, [b] as never)).toThrow(BgeGgufError);
  });

  it('colbert: the mean over query vectors of the best dot product', () => {
    const q = [[1, 0], [0, 1]];
    const p = [[0.6, 0.8], [1, 0]];
    expect(colbertScore(q, p)).toBeCloseTo((1 + 0.8) / 2, 12);
  });

  it("compute_score's weighted sums", () => {
    const s = combineM3Scores(0.9, 0.3, 0.6, [0.4, 0.2, 0.4]);
    expect(s['sparse+dense']).toBeCloseTo((0.3 * 0.2 + 0.9 * 0.4) / 0.6, 12);
    expect(s['colbert+sparse+dense']).toBeCloseTo(0.6 * 0.4 + 0.3 * 0.2 + 0.9 * 0.4, 12);
    expect(() => combineM3Scores(1, 1, 1, [1, 1])).toThrow(/three/);
  });
});
