/**
 * Child process of the GGUF fuzzer: builds cases, loads each with the native engine through the
 * public API a user of that kind of model calls and runs it on two inputs: FlagAutoModel.encode for
 * bert and the decoders, FlagReranker.computeScore for the XLM-R reranker, BGEM3FlagModel.encode
 * for the XLM-R encoder (texts that reach the charsmap: full-width, accents, combining marks, CJK). One JSON line per event on stdout, written synchronously
 * (a "start" line before each case, so the parent can name the case that killed the process).
 *   node --import tsx runner.ts <base> <seed> <index,index,...>
 *   node --import tsx runner.ts --files <base> <a.gguf> <b.gguf> ...   (cases named by their position)
 */
import { rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BgeGgufError } from '../../../src/errors.js';
import { BGEM3FlagModel, FlagAutoModel, FlagReranker } from '../../../src/index.js';
import { caseStream, fuzzBasePath, type FuzzBase } from './bases.js';
import { imageFromFile } from './image.js';
import { mutation } from './mutate.js';

const args = process.argv.slice(2);
const say = (event: object) => writeSync(1, `${JSON.stringify(event)}\n`);
console.warn = () => {}; // "not in the model registry" notices

const TEXTS = ['hello world', 'the quick brown fox jumps over the lazy dog'];
const XLMR_TEXTS = ['what is a panda?', 'Ｔｈｅ ｇｉａｎｔ panda — café, nai\u0308ve ﬁsh, 熊猫 ①'];

/** Loads `file` as `base` is meant to be loaded and runs it; the outputs' count and width, or the error. */
async function loadAndRun(base: FuzzBase, file: string): Promise<object> {
  const options = { threads: 1, gpu: false, engine: 'native' } as const;
  try {
    if (base === 'xlmr') {
      const reranker = await FlagReranker.load(file, options);
      try {
        const scores = await reranker.computeScore([[XLMR_TEXTS[0], XLMR_TEXTS[1]], [XLMR_TEXTS[1], TEXTS[1]]]);
        return { ok: true, dims: scores.length };
      } finally {
        await reranker.dispose();
      }
    }
    if (base === 'xlmr-m3') {
      const m3 = await BGEM3FlagModel.load(file, options);
      try {
        const out = await m3.encode(XLMR_TEXTS);
        return { ok: true, dims: out.denseVecs?.[0]?.length };
      } finally {
        await m3.dispose();
      }
    }
    const model = await FlagAutoModel.fromFinetuned(file, options);
    try {
      const vectors = await model.encode(TEXTS);
      return { ok: true, dims: vectors[0]?.length };
    } finally {
      await model.dispose();
    }
  } catch (error) {
    return error instanceof BgeGgufError
      ? { ok: false, code: error.code, message: error.message.slice(0, 300) }
      : { ok: false, untyped: String((error as Error)?.stack ?? error).slice(0, 600) };
  }
}

if (args[0] === '--files') {
  const base = args[1] as FuzzBase;
  for (const [index, file] of args.slice(2).entries()) {
    say({ start: index, label: file });
    say({ done: index, ...(await loadAndRun(base, file)) });
  }
} else {
  const [base, seedArg, indexList] = args;
  const image = await imageFromFile(fuzzBasePath(base as FuzzBase));
  const file = join(tmpdir(), `bge-gguf-fuzz-${process.pid}.gguf`);
  try {
    for (const index of indexList.split(',').map(Number)) {
      let made: ReturnType<typeof mutation>;
      try {
        made = mutation(image, Number(seedArg), index, caseStream(base as FuzzBase));
      } catch (error) {
        say({ start: index, label: 'mutation generator' }); // a fuzzer bug, reported as one (never blamed on the library)
        say({ done: index, ok: false, generatorError: String(error).slice(0, 300) });
        continue;
      }
      const { label, bytes } = made;
      writeFileSync(file, bytes);
      say({ start: index, label });
      say({ done: index, ...(await loadAndRun(base as FuzzBase, file)) });
    }
  } finally {
    rmSync(file, { force: true });
  }
}
