/** L2-normalizes in place; a zero vector stays zero (never NaN). */
export function l2NormalizeInPlace(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i] * vector[i];
  if (sum > 0) {
    const scale = 1 / Math.sqrt(sum);
    for (let i = 0; i < vector.length; i++) vector[i] *= scale;
  }
  return vector;
}

/** FlagEmbedding's post-processing: keep the first `truncateDim` dims (Matryoshka), then normalize. */
export function postprocess(vector: Float32Array, options: { truncateDim?: number; normalize: boolean }): Float32Array {
  const out = options.truncateDim && options.truncateDim < vector.length ? vector.slice(0, options.truncateDim) : vector;
  return options.normalize ? l2NormalizeInPlace(out) : out;
}
