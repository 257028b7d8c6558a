/**
 * Child process for test/options-fuzz.test.ts: loads <model> with the JSON options in argv[3],
 * encodes the JSON texts in argv[4], and prints one JSON line: the vector count and whether all are
 * finite, or the typed error's code. A llama.cpp abort kills this process instead, which is what the
 * test looks for.
 */
import { FlagModel } from '../../src/index.js';
import { BgeGgufError } from '../../src/errors.js';

const [model, optionsJson, textsJson] = process.argv.slice(2);
const texts: string[] = JSON.parse(textsJson);
try {
  const flag = await FlagModel.load(model, { gpu: false, ...JSON.parse(optionsJson) });
  try {
    const vectors = await flag.encode(texts);
    console.log(JSON.stringify({ count: vectors.length, finite: vectors.every((v) => v.every(Number.isFinite)) }));
  } finally {
    await flag.dispose();
  }
} catch (error) {
  console.log(JSON.stringify({ code: error instanceof BgeGgufError ? error.code : `untyped: ${(error as Error).message}`, message: (error as Error).message }));
}
