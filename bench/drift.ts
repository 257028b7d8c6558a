/**
 * Default-mode drift (README, "Batching and exactness"): the same texts in one call vs one at a time.
 *   npx tsx bench/drift.ts <model.gguf> [texts=300] [threads=2]
 * Prints max |diff|, min cosine and how many vectors came out bit-identical; texts are
 * test/support/mixedTexts.ts with seed 11 (mixed lengths up to 512 tokens, twelve scripts).
 */
import { FlagModel } from '../src/index.js';
import { mixedTexts } from '../test/support/mixedTexts.js';

const [path, countArg = '300', threadsArg = '2'] = process.argv.slice(2);
if (!path) throw new Error('usage: npx tsx bench/drift.ts <model.gguf> [texts=300] [threads=2]');
const texts = mixedTexts(Number(countArg), 11);
const model = await FlagModel.load(path, { threads: Number(threadsArg) });
try {
  const batched = await model.encode(texts);
  let maxDiff = 0;
  let minCos = 1;
  let identical = 0;
  for (let i = 0; i < texts.length; i++) {
    const [alone] = await model.encode([texts[i]]);
    let dot = 0;
    let diff = 0;
    for (let k = 0; k < alone.length; k++) {
      dot += alone[k] * batched[i][k];
      diff = Math.max(diff, Math.abs(alone[k] - batched[i][k]));
    }
    maxDiff = Math.max(maxDiff, diff);
    minCos = Math.min(minCos, dot);
    if (diff === 0) identical++;
  }
  console.log(`${path}: ${texts.length} texts, max abs diff ${maxDiff.toExponential(2)}, min cosine ${minCos.toFixed(7)}, bit-identical ${identical}/${texts.length}`);
} finally {
  await model.dispose();
}
