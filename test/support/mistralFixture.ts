/**
 * Tiny synthetic Mistral GGUFs (bge-en-icl's architecture at toy size) with the real Llama
 * SentencePiece vocabulary, and that vocabulary loaded vocab-only for token-level tests.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-ignore plain .mjs script without type declarations
import { llamaSourceDir } from '../../scripts/llama-source.mjs';
import { hfStyleTokenizer } from '../../src/api/DecoderEmbedder.js';
import { readGguf } from '../../src/gguf/reader.js';
import type { IclTokenizer } from '../../src/prompt/icl.js';
import type { Engine, TokenizeOptions } from '../../src/runtime/types.js';
import { writeSyntheticMistral, type SyntheticMistralOptions, type SyntheticMistralResult } from './synthetic/mistral.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function spmVocabPath(): string {
  return join(llamaSourceDir() as string, 'models', 'ggml-vocab-llama-spm.gguf');
}

/** 2 layers, hidden 64, 4 query heads sharing 2 key/value heads (GQA), SwiGLU 128. */
export const TINY_MISTRAL = { layers: 2, hidden: 64, heads: 4, kvHeads: 2, ffn: 128, ropeTheta: 10000, rmsEps: 1e-5, seed: 20240917 } as const;

/** Writes test/fixtures/<name> (a few hundred ms) and returns its path and weights. */
export async function writeMistralFixture(
  name: string,
  options: Partial<Omit<SyntheticMistralOptions, 'vocabGguf'>> & Pick<SyntheticMistralOptions, 'type'>,
): Promise<{ path: string } & SyntheticMistralResult> {
  const dir = join(repoRoot, 'test', 'fixtures');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  const result = await writeSyntheticMistral(path, { ...TINY_MISTRAL, ...options, vocabGguf: spmVocabPath() });
  return { path, ...result };
}

/**
 * The Llama SentencePiece vocabulary through node-llama-cpp (vocab only), wrapped by bge-gguf's own
 * HF-style tokenizer (special tokens parsed, HF decode), as FlagICLModel uses it.
 */
export async function spmTokenizer(): Promise<IclTokenizer & { dispose(): Promise<void> }> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error, build: 'never' });
  // node-llama-cpp's memory estimate tries a full load first and logs its (expected) failure
  const logLevel = llama.logLevel;
  llama.logLevel = LlamaLogLevel.disabled;
  const model = await llama.loadModel({ modelPath: spmVocabPath(), vocabOnly: true }).finally(() => {
    llama.logLevel = logLevel;
  });
  const tokens = (await readGguf(spmVocabPath())).metadata.get('tokenizer.ggml.tokens')!.value as string[];
  const engine = {
    tokenize: (text: string, options: TokenizeOptions) => Int32Array.from(model.tokenize(text, options.parseSpecial ?? false) as number[]),
    detokenize: (ids: ArrayLike<number>) => model.detokenize(Array.from(ids) as never),
  } as unknown as Engine;
  const tokenizer = hfStyleTokenizer(() => engine, { model: 'llama', pre: 'default', pieces: tokens }, model.tokens.bos as number, model.tokens.eos as number);
  return { ...tokenizer, dispose: () => model.dispose() };
}
