/**
 * The fuzzer's seed models: a tiny BERT (arch "bert", WordPiece) and a tiny Mistral (arch "llama",
 * SentencePiece), each with the first tokens of a real vocabulary so llama.cpp loads them in
 * milliseconds. Written into test/fixtures/fuzz/ on first use.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readGguf } from '../../../src/gguf/reader.js';
import { GgmlType, GgufValueType, type GgufValue } from '../../../src/gguf/types.js';
import { writeGguf } from '../../../src/gguf/writer.js';
import { bgeVocabPath, fixtureDir } from '../fixtures.js';
import { spmVocabPath } from '../mistralFixture.js';
import { writeSyntheticBert } from '../synthetic/bert.js';
import { writeSyntheticMistral } from '../synthetic/mistral.js';

export type FuzzBase = 'bert' | 'llama';
export const FUZZ_BASES: readonly FuzzBase[] = ['bert', 'llama'];

const VOCAB_TOKENS = 2400; // bge: specials, characters and ~400 whole words; llama: specials, bytes, pieces

export const fuzzDir = join(fixtureDir, 'fuzz');

/** A vocab-only GGUF with the first `count` tokens of `source` (every per-token array cut alike). */
async function trimVocab(source: string, out: string, count: number): Promise<void> {
  const file = await readGguf(source);
  const entries: Array<[string, GgufValue]> = [];
  for (const [key, value] of file.metadata) {
    if (!key.startsWith('tokenizer.ggml.')) continue;
    const perToken = value.type === GgufValueType.ARRAY && ['tokens', 'scores', 'token_type'].some((k) => key === `tokenizer.ggml.${k}`);
    entries.push([key, perToken ? { ...value, value: value.value.slice(0, count) } as GgufValue : value]);
  }
  await writeGguf(out, entries, []);
}

export function fuzzBasePath(base: FuzzBase): string {
  return join(fuzzDir, `base-${base}.gguf`);
}

/** Writes the base models that are missing (a fraction of a second each). */
export async function ensureFuzzBases(): Promise<void> {
  mkdirSync(fuzzDir, { recursive: true });
  const bert = fuzzBasePath('bert');
  if (!existsSync(bert)) {
    const vocab = join(fuzzDir, 'vocab-bert.gguf');
    await trimVocab(bgeVocabPath(), vocab, VOCAB_TOKENS);
    await writeSyntheticBert(`${bert}.tmp`, { layers: 2, hidden: 16, heads: 2, ffn: 32, maxPositions: 64, type: GgmlType.F32, pooling: 'cls', seed: 7, vocabGguf: vocab });
    await import('node:fs/promises').then((fs) => fs.rename(`${bert}.tmp`, bert));
  }
  const llama = fuzzBasePath('llama');
  if (!existsSync(llama)) {
    const vocab = join(fuzzDir, 'vocab-llama.gguf');
    await trimVocab(spmVocabPath(), vocab, VOCAB_TOKENS);
    await writeSyntheticMistral(`${llama}.tmp`, {
      layers: 2, hidden: 16, heads: 2, kvHeads: 1, ffn: 32, contextLength: 64, type: GgmlType.F32, seed: 11, vocabGguf: vocab,
    });
    await import('node:fs/promises').then((fs) => fs.rename(`${llama}.tmp`, llama));
  }
}
