// One measurement for bench/cpu-builds.mjs: load, warm up, encode `count` passages, print JSON.
import { FlagModel } from '../dist/index.js';
import { defaultExamplesDir } from '../dist/prompt/taskExamples.js';
import { loadExampleTexts, repeatTo } from './corpus.mjs';

const [model, count, threads] = process.argv.slice(2);
const texts = repeatTo(loadExampleTexts(defaultExamplesDir()).texts, Number(count));
const started = performance.now();
const embedder = await FlagModel.load(model, { threads: Number(threads), engine: 'native', gpu: false });
const loadMs = performance.now() - started;
await embedder.encode(texts.slice(0, 16));
const t0 = performance.now();
await embedder.encode(texts);
const seconds = (performance.now() - t0) / 1000;
const { preferredCpuVariant } = await import('../dist/runtime/cpuLibrary.js');
const variant = process.env.BGE_GGUF_NATIVE_ADDON ?? (await preferredCpuVariant(model));
await embedder.dispose();
console.log(JSON.stringify({ loadMs, passagesPerSec: texts.length / seconds, variant: variant === 'cpu' ? 'prebuilt' : variant }));
