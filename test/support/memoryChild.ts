/**
 * Child process for memory tests and the soak (run with --expose-gc): prints one JSON line with an
 * RSS series in MB, one value per cycle, taken after a GC.
 * Arguments: <mode> <n> <model> [threads, default 2]
 *   cycles <n> <model>      load, encode 8 texts, dispose
 *   undisposed <n> <model>  load, encode, drop without dispose (the FinalizationRegistry frees it)
 *   held <n> <model>        load, encode, keep every model alive (what an unreleased model costs)
 *   encodes <n> <model>     one model, n encode calls of one text each (RSS sampled 100 times)
 */
import { FlagModel } from '../../src/index.js';

const [mode, countArg, model, threadsArg] = process.argv.slice(2);
const count = Number(countArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const warnings: string[] = [];
const warn = console.warn;
console.warn = (...args: unknown[]) => {
  if (String(args[0]).includes('without dispose')) warnings.push(String(args[0]));
  else if (!String(args[0]).includes('registry')) warn(...args);
};
const texts = Array.from({ length: 8 }, (_, i) => `memory test sentence number ${i} about embeddings and llama.cpp`);
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5)); // FinalizationRegistry callbacks run in a later task
  }
};
const mb = () => Math.round((process.memoryUsage.rss() / 2 ** 20) * 10) / 10;
const options = { threads: Number(threadsArg ?? 2), gpu: false } as const;

const rss: number[] = [];
const held: unknown[] = [];
if (mode === 'encodes') {
  const m = await FlagModel.load(model, options);
  for (let i = 0; i < count; i++) {
    await m.encode(texts[i % texts.length]);
    if (i % Math.max(1, Math.floor(count / 100)) === 0) rss.push(mb());
  }
  await m.dispose();
} else {
  for (let i = 0; i < count; i++) {
    const m = await FlagModel.load(model, options);
    await m.encode(texts);
    if (mode === 'cycles') await m.dispose();
    if (mode === 'held') held.push(m);
    await settle();
    rss.push(mb());
  }
}
await settle();
console.log(JSON.stringify({ mode, count, rss, final: mb(), warnings: warnings.length, held: held.length }));
