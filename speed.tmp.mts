import { loadEngine } from './src/runtime/load.js';
import { readGguf } from './src/gguf/reader.js';
import { WordPieceTokenizer } from './src/tokens/wordpiece.js';
import { withHfWordPieceRules } from './src/tokens/oldWordpiece.tmp.js';
import { loadExampleTexts } from './bench/corpus.mjs';
import { defaultExamplesDir } from './src/prompt/taskExamples.js';
import { repeatTo } from './bench/corpus.mjs';
const texts = repeatTo(loadExampleTexts(defaultExamplesDir()).texts, 1315);
console.log('passages', texts.length);
const path = 'models/all-minilm-l6-v2-q8_0.gguf';
const gguf = await readGguf(path);
const engine = await loadEngine(path, { threads: 1 }, gguf);
const old = withHfWordPieceRules(engine, 100);
const fresh = () => WordPieceTokenizer.fromGguf(gguf);
function run(name: string, f: (t: string) => number, reps = 9) {
  let best = Infinity, tokens = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now(); tokens = 0;
    for (const t of texts) tokens += f(t);
    best = Math.min(best, performance.now() - t0);
  }
  console.log(`${name}: ${tokens} tokens, best ${best.toFixed(1)} ms, ${(tokens / best * 1000).toFixed(0)} tokens/s`);
}
run('before (llama.cpp WPM + TS patch)', (t) => old.tokenize(t, { addSpecial: true }).length);
run('llama.cpp WPM alone', (t) => engine.tokenize(t, { addSpecial: true }).length);
const tk = fresh();
run('after (TS WordPiece, warm word cache)', (t) => tk.encode(t).length + 2);
const colds = Array.from({ length: 9 }, fresh);
run('after (TS WordPiece, cold word cache)', (() => { let n = 0; return (t: string) => colds[Math.floor(n++ / texts.length)].encode(t).length + 2; })());
let same = 0; for (const t of texts) { const a = Array.from(old.tokenize(t, { addSpecial: false })); const b = tk.encode(t); if (a.join() === b.join()) same++; } console.log('old==new on', same, '/', texts.length);
await engine.dispose();
