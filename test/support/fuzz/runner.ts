/**
 * Child process of the GGUF fuzzer: builds cases, loads each with the native engine through the
 * public API and encodes two texts. One JSON line per event on stdout, written synchronously
 * (a "start" line before each case, so the parent can name the case that killed the process).
 *   node --import tsx runner.ts <base> <seed> <index,index,...>
 */
import { rmSync, writeFileSync } from 'node:fs';
import { writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BgeGgufError } from '../../../src/errors.js';
import { FlagAutoModel } from '../../../src/index.js';
import { fuzzBasePath, type FuzzBase } from './bases.js';
import { imageFromFile } from './image.js';
import { mutation } from './mutate.js';

const [base, seedArg, indexList] = process.argv.slice(2);
const seed = Number(seedArg);
const indices = indexList.split(',').map(Number);
const say = (event: object) => writeSync(1, `${JSON.stringify(event)}\n`);
console.warn = () => {}; // "not in the model registry" notices

const image = await imageFromFile(fuzzBasePath(base as FuzzBase));
const file = join(tmpdir(), `bge-gguf-fuzz-${process.pid}.gguf`);
try {
  for (const index of indices) {
    const { label, bytes } = mutation(image, seed, index);
    writeFileSync(file, bytes);
    say({ start: index, label });
    let outcome: object;
    try {
      const model = await FlagAutoModel.fromFinetuned(file, { threads: 1, gpu: false, engine: 'native' });
      try {
        const vectors = await model.encode(['hello world', 'the quick brown fox jumps over the lazy dog']);
        outcome = { ok: true, dims: vectors[0]?.length };
      } finally {
        await model.dispose();
      }
    } catch (error) {
      outcome = error instanceof BgeGgufError
        ? { ok: false, code: error.code, message: error.message.slice(0, 300) }
        : { ok: false, untyped: String((error as Error)?.stack ?? error).slice(0, 600) };
    }
    say({ done: index, ...outcome });
  }
} finally {
  rmSync(file, { force: true });
}
