/**
 * XLM-R (UGM) token ids: llama.cpp vs Hugging Face's XLMRobertaTokenizerFast rebuilt from the same
 * GGUF metadata (scripts/parity/xlmr-hf-tokenize.py, Rust `tokenizers`), on a seeded multilingual
 * fuzz set; with and without bge-gguf's HF-style Precompiled pass before llama.cpp tokenizes.
 *
 *   npx tsx scripts/parity/xlmr-tokenizer-parity.ts [count=5000]
 * BGE_GGUF_PARITY_PYTHON=<python with numpy + tokenizers> overrides the venv (.cache/parity-venv, created on first run).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @ts-ignore plain .mjs without type declarations
import { llamaSourceDir } from '../llama-source.mjs';
// @ts-ignore plain .mjs without type declarations
import { ensureVenv } from './python-env.mjs';
import { readGguf } from '../../src/gguf/reader.js';
import { loadCpuAddon } from '../../src/runtime/nativeBinding.js';
import { PrecompiledCharsmap, hfPrecompiledNormalize } from '../../src/tokens/precompiledCharsmap.js';
import { UnigramTokenizer } from '../../src/tokens/unigram.js';
import { multilingualFuzz } from '../../test/support/multilingualFuzz.js';
import { repoRoot, sharedTexts } from '../../test/support/fixtures.js';

const count = Number(process.argv[2] ?? 5000);
const llamaDir = llamaSourceDir() as string;
const vocab = join(llamaDir, 'models', 'ggml-vocab-nomic-bert-moe.gguf');
const work = join(repoRoot, '.cache', 'xlmr-parity');
mkdirSync(work, { recursive: true });

const words = sharedTexts().join(' ').split(/\s+/).filter(Boolean);
const texts = multilingualFuzz(count, 20250311, words);
writeFileSync(join(work, 'texts.json'), JSON.stringify(texts));
const python = process.env.BGE_GGUF_PARITY_PYTHON ?? ensureVenv(join(repoRoot, '.cache', 'parity-venv'), console.log);
execFileSync(python, [join(repoRoot, 'scripts', 'parity', 'xlmr-hf-tokenize.py'), join(llamaDir, 'gguf-py'), vocab, join(work, 'texts.json'), join(work, 'hf.json')], { stdio: 'inherit' });
const hf = JSON.parse(readFileSync(join(work, 'hf.json'), 'utf8')) as number[][];

const model = await loadCpuAddon().addon.loadModel(vocab, { vocabOnly: true });
const raw = (await readGguf(vocab)).metadata.get('tokenizer.ggml.precompiled_charsmap')!.value as number[];
const charsmap = new PrecompiledCharsmap(Uint8Array.from(raw));
const meta = (await readGguf(vocab)).metadata;
const unigram = new UnigramTokenizer({
  tokens: meta.get('tokenizer.ggml.tokens')!.value as string[],
  scores: meta.get('tokenizer.ggml.scores')!.value as number[],
  types: meta.get('tokenizer.ggml.token_type')!.value as number[],
  charsmap: Uint8Array.from(raw),
  unkId: 3,
});
let ours = 0;
const oursDiffer: Array<{ text: string; ours: number[]; hf: number[] }> = [];
const same = (a: ArrayLike<number>, b: number[]) => a.length === b.length && b.every((x, i) => a[i] === x);
const trailingSpaceOnly = (a: ArrayLike<number>, b: number[]) => b.length === a.length + 1 && b[b.length - 1] === 6 && same(a, b.slice(0, -1));

let plain = 0;
let normalized = 0;
let whitespaceOnly = 0;
const differing: Array<{ text: string; llama: number[]; hf: number[] }> = [];
texts.forEach((text, i) => {
  const a = model.tokenize(text, false, false);
  const b = model.tokenize(hfPrecompiledNormalize(charsmap, text), false, false);
  const c = unigram.tokenize(text);
  if (same(c, hf[i])) ours++;
  else oursDiffer.push({ text, ours: Array.from(c), hf: hf[i] });
  if (same(a, hf[i])) plain++;
  if (same(b, hf[i])) normalized++;
  else if (trailingSpaceOnly(b, hf[i])) whitespaceOnly++;
  else differing.push({ text, llama: Array.from(b), hf: hf[i] });
});
model.dispose();
const pct = (n: number) => `${((100 * n) / texts.length).toFixed(2)}%`;
console.log(`${texts.length} multilingual fuzz strings, token ids identical to HF XLMRobertaTokenizerFast:`);
console.log(`  llama.cpp alone:                        ${plain} (${pct(plain)})`);
console.log(`  HF Precompiled pass, then llama.cpp:    ${normalized} (${pct(normalized)})`);
console.log(`  + differing only by HF's trailing "▁":  ${whitespaceOnly} (${pct(whitespaceOnly)})`);
console.log(`  other differences:                      ${differing.length}`);
console.log(`  bge-gguf's own Unigram (src/tokens/unigram.ts): ${ours} (${pct(ours)})`);
for (const d of oursDiffer.slice(0, 10)) console.log(`    ${JSON.stringify(d.text)}\n      ours  ${d.ours.join(' ')}\n      hf    ${d.hf.join(' ')}`);
for (const d of differing.slice(0, 0)) console.log(`    ${JSON.stringify(d.text)}\n      llama ${d.llama.join(' ')}\n      hf    ${d.hf.join(' ')}`);
writeFileSync(join(work, 'differences.json'), JSON.stringify(differing, null, 1));
