/**
 * Child process of the GGUF fuzzer: builds cases, loads each with the native engine through the
 * public API and encodes two texts. One JSON line per event on stdout, written synchronously
 * (a "start" line before each case, so the parent can name the case that killed the process).
 *   node --import tsx runner.ts <base> <seed> <index,index,...>
 *   node --import tsx runner.ts --files <a.gguf> <b.gguf> ...   (cases named by their position)
 */
import { rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BgeGgufError } from '../../../src/errors.js';
import { FlagAutoModel } from '../../../src/index.js';
import { fuzzBasePath, type FuzzBase } from './bases.js';
import { imageFromFile } from './image.js';
import { mutation } from './mutate.js';

const args = process.argv.slice(2);
const say = (event: object) => writeSync(1, `${JSON.stringify(event)}\n`);
console.warn = () => {}; // "not in the model registry" notices

async function loadAndEncode(file: string): Promise<object> {
  try {
    const model = await FlagAutoModel.fromFinetuned(file, { threads: 1, gpu: false, engine: 'native' });
    try {
      const vectors = await model.encode(['hello world', 'the quick brown fox jumps over the lazy dog']);
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
  for (const [index, file] of args.slice(1).entries()) {
    say({ start: index, label: file });
    say({ done: index, ...(await loadAndEncode(file)) });
  }
} else {
  const [base, seedArg, indexList] = args;
  const image = await imageFromFile(fuzzBasePath(base as FuzzBase));
  const file = join(tmpdir(), `bge-gguf-fuzz-${process.pid}.gguf`);
  try {
    for (const index of indexList.split(',').map(Number)) {
      let made: ReturnType<typeof mutation>;
      try {
        made = mutation(image, Number(seedArg), index);
      } catch (error) {
        say({ start: index, label: 'mutation generator' }); // a fuzzer bug, reported as one (never blamed on the library)
        say({ done: index, ok: false, generatorError: String(error).slice(0, 300) });
        continue;
      }
      const { label, bytes } = made;
      writeFileSync(file, bytes);
      say({ start: index, label });
      say({ done: index, ...(await loadAndEncode(file)) });
    }
  } finally {
    rmSync(file, { force: true });
  }
}
