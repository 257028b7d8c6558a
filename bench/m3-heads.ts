/**
 * Speed of BGE-M3's ColBERT head in TypeScript (1024 × 1024 linear per token, 4-row blocks, float64 sums)
 * against a plain one-row loop and the native addon's applyLinear (what BGEM3FlagModel uses).   npx tsx bench/m3-heads.ts [tokens=512]
 */
import { applyLinear } from '../src/heads/linear.js';
import { loadCpuAddon } from '../src/runtime/nativeBinding.js';

const tokens = Number(process.argv[2] ?? 512);
const n = 1024;
const rand = (count: number) => Float32Array.from({ length: count }, () => Math.random() - 0.5);
const head = { weight: rand(n * n), bias: rand(n), inFeatures: n, outFeatures: n };
const rows = rand(tokens * n);

function plain(x: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count * n);
  for (let r = 0; r < count; r++) {
    for (let o = 0; o < n; o++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += x[r * n + i] * head.weight[o * n + i];
      out[r * n + o] = s + head.bias[o];
    }
  }
  return out;
}

const addon = loadCpuAddon().addon;
const threads = Number(process.argv[3] ?? 2);
const cases: Array<[string, () => unknown]> = [
  [`native addon (${threads} threads)`, () => addon.applyLinear!(rows, tokens, head.weight, head.bias, threads)],
  ['native addon (1 thread)', () => addon.applyLinear!(rows, tokens, head.weight, head.bias, 1)],
  ['TypeScript, 4-row blocks (src/heads/linear.ts)', () => applyLinear(rows, tokens, head)],
  ['TypeScript, one row at a time', () => plain(rows, tokens)],
];
for (const [name, fn] of cases) {
  await fn(); // warm up
  const t = performance.now();
  await fn();
  const s = (performance.now() - t) / 1000;
  console.log(`${name}: ${tokens} tokens in ${s.toFixed(2)} s = ${((2 * tokens * n * n) / s / 1e9).toFixed(2)} GFLOP/s`);
}
