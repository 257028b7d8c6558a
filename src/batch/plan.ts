export interface BatchLimits {
  /** Most tokens in one decode (sum of sequence lengths). */
  maxTokens: number;
  /** Most sequences in one decode. */
  maxSequences: number;
}

/**
 * Groups sequence indices into decodes: longest first, so neighbours have similar
 * lengths, each group within the token and sequence limits. Every index appears once.
 */
export function planBatches(lengths: readonly number[], limits: BatchLimits): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b);
  const groups: number[][] = [];
  let group: number[] = [];
  let tokens = 0;
  for (const index of order) {
    const length = lengths[index];
    if (group.length > 0 && (tokens + length > limits.maxTokens || group.length >= limits.maxSequences)) {
      groups.push(group);
      group = [];
      tokens = 0;
    }
    group.push(index);
    tokens += length;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}
