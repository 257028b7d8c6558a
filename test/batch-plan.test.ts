import { describe, expect, it } from 'vitest';
import { planBatches } from '../src/batch/plan.js';

describe('planBatches', () => {
  const lengths = [5, 512, 3, 40, 40, 200, 1, 77, 512, 9];

  it('puts every index in exactly one group', () => {
    const groups = planBatches(lengths, { maxTokens: 600, maxSequences: 3 });
    expect(groups.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
  });

  it('keeps each group within the token and sequence limits', () => {
    for (const limits of [{ maxTokens: 600, maxSequences: 3 }, { maxTokens: 1024, maxSequences: 256 }, { maxTokens: 512, maxSequences: 1 }]) {
      for (const group of planBatches(lengths, limits)) {
        expect(group.length).toBeLessThanOrEqual(limits.maxSequences);
        expect(group.reduce((s, i) => s + lengths[i], 0)).toBeLessThanOrEqual(limits.maxTokens);
      }
    }
  });

  it('orders by length so neighbours have similar lengths (longest first)', () => {
    const order = planBatches(lengths, { maxTokens: 10_000, maxSequences: 4 }).flat().map((i) => lengths[i]);
    expect(order).toEqual([...lengths].sort((a, b) => b - a));
  });

  it('packs short sequences together up to the limits', () => {
    const groups = planBatches(new Array(100).fill(8), { maxTokens: 256, maxSequences: 64 });
    expect(groups.map((g) => g.length)).toEqual([32, 32, 32, 4]);
  });

  it('returns no groups for no sequences', () => {
    expect(planBatches([], { maxTokens: 10, maxSequences: 2 })).toEqual([]);
  });
});
