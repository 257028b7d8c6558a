/** A torch.nn.Linear: `weight` is out × in, row-major (torch's layout), `bias` has `out` values. */
export interface LinearHead {
  weight: Float32Array;
  bias: Float32Array;
  inFeatures: number;
  outFeatures: number;
}

/**
 * rows (n × in, row-major) → n × out: x · Wᵀ + b. Four rows share each weight row read, which
 * keeps the weights in cache (a 1024 × 1024 head is 4 MB); sums are in float64 (JS numbers).
 */
export function applyLinear(rows: Float32Array, count: number, head: LinearHead): Float32Array {
  const { weight, bias, inFeatures: n, outFeatures: m } = head;
  const out = new Float32Array(count * m);
  let r = 0;
  for (; r + 4 <= count; r += 4) {
    const a = r * n;
    const b = a + n;
    const c = b + n;
    const d = c + n;
    for (let o = 0; o < m; o++) {
      const w = o * n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let i = 0; i < n; i++) {
        const wi = weight[w + i];
        s0 += rows[a + i] * wi;
        s1 += rows[b + i] * wi;
        s2 += rows[c + i] * wi;
        s3 += rows[d + i] * wi;
      }
      const bo = bias[o];
      out[r * m + o] = s0 + bo;
      out[(r + 1) * m + o] = s1 + bo;
      out[(r + 2) * m + o] = s2 + bo;
      out[(r + 3) * m + o] = s3 + bo;
    }
  }
  for (; r < count; r++) {
    const a = r * n;
    for (let o = 0; o < m; o++) {
      const w = o * n;
      let s = 0;
      for (let i = 0; i < n; i++) s += rows[a + i] * weight[w + i];
      out[r * m + o] = s + bias[o];
    }
  }
  return out;
}
