// One decode of one sequence per length, median ms of repeated runs, with flash attention (on the
// kernel this process got: the addon's, or llama.cpp's under BGE_GGUF_CPU_KERNELS=ggml) and with plain
// attention. The figures behind plainAttentionBelow (src/runtime/native.ts) and docs/benchmarks.md.
//   node bench/real/attention.mjs <model.gguf> [lengths=9,13,16,24,32,63,512] [threads=2]
import { performance } from 'node:perf_hooks';
import { createNativeEngine } from '../../dist/runtime/native.js';
import { loadAddon } from '../../dist/runtime/nativeBinding.js';

const [modelPath, lengthsArg = '9,13,16,24,32,63,512', threadsArg = '2'] = process.argv.slice(2);
if (!modelPath) throw new Error('usage: node bench/real/attention.mjs <model.gguf> [lengths] [threads]');
const lengths = lengthsArg.split(',').map(Number);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timings(flashAttention) {
  const engine = await createNativeEngine(modelPath, { threads: Number(threadsArg), parallelDecodes: 1, flashAttention, batchTokens: Math.max(...lengths) });
  const out = {};
  for (const length of lengths) {
    const ids = [Int32Array.from({ length }, (_, i) => 1000 + ((i * 37) % 20000))];
    const runs = length >= 256 ? 8 : 100;
    for (let i = 0; i < Math.min(runs, 20); i++) await engine.encodeBatch(ids, 'mean');
    const ms = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await engine.encodeBatch(ids, 'mean');
      ms.push(performance.now() - started);
    }
    out[length] = median(ms);
  }
  await engine.dispose();
  return out;
}

const flash = await timings(true);
const plain = await timings(false);
const kernel = loadAddon('cpu').addon.cpuKernels().isa;
console.log(`| tokens | flash attention (${kernel} kernel) ms | plain attention ms |\n|---|---|---|`);
for (const length of lengths) console.log(`| ${length} | ${flash[length].toFixed(2)} | ${plain[length].toFixed(2)} |`);
