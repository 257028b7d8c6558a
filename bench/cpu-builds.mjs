#!/usr/bin/env node
// Speed of the two CPU builds of llama.cpp (node-llama-cpp's prebuilt libraries, and llama.cpp
// compiled here with `node scripts/build-native.mjs --from-source`) against the default choice
// (src/runtime/cpuLibrary.ts: measured once per weight type, cached), per weight type.
//   node bench/cpu-builds.mjs model-f32.gguf model-f16.gguf model-q8_0.gguf [--texts=N] [--threads=N] [--reps=N]
// Needs `npm run build` (imports dist/) and both addons built. Each run is a fresh process.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const args = process.argv.slice(2);
const option = (name, fallback) => Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
const models = args.filter((a) => !a.startsWith('--'));
const texts = option('texts', 1000);
const threads = option('threads', 2);
const child = new URL('./cpu-builds-child.mjs', import.meta.url).pathname;

function run(model, env) {
  const out = execFileSync(process.execPath, [child, model, String(texts), String(threads)], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

console.log(`CPU: ${cpus()[0].model}, ${threads} threads, ${texts} passages (FlagEmbedding's ICL example texts, repeated)`);
console.log('| model | prebuilt (passages/s) | source (passages/s) | default: chosen, passages/s | one-time measurement |');
console.log('| --- | --- | --- | --- | --- |');
// On a shared machine the three configurations take turns, best of `reps` runs each.
const reps = option('reps', 2);
const best = (a, b) => (!a || b.passagesPerSec > a.passagesPerSec ? b : a);
for (const model of models) {
  const cache = mkdtempSync(join(tmpdir(), 'bge-gguf-cpu-builds-'));
  const first = run(model, { BGE_GGUF_CACHE: cache }); // measures and caches
  let prebuilt, source, chosen;
  for (let r = 0; r < reps; r++) {
    prebuilt = best(prebuilt, run(model, { BGE_GGUF_NATIVE_ADDON: 'cpu' }));
    source = best(source, run(model, { BGE_GGUF_NATIVE_ADDON: 'source' }));
    chosen = best(chosen, run(model, { BGE_GGUF_CACHE: cache })); // reads the cache
  }
  const extra = first.loadMs - chosen.loadMs;
  console.log(`| ${basename(model)} | ${prebuilt.passagesPerSec.toFixed(1)} | ${source.passagesPerSec.toFixed(1)} | ${chosen.variant}, ${chosen.passagesPerSec.toFixed(1)} | ${Math.max(0, extra).toFixed(0)} ms at first load |`);
}
