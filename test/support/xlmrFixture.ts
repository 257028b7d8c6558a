/**
 * Tiny synthetic XLM-R rerankers (bge-reranker's architecture at toy size) with the real XLM-R
 * 250k SentencePiece vocabulary from llama.cpp's models/ggml-vocab-nomic-bert-moe.gguf.
 */
import { mkdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-ignore plain .mjs script without type declarations
import { llamaSourceDir } from '../../scripts/llama-source.mjs';
import { GgmlType } from '../../src/gguf/types.js';
import { writeSyntheticXlmr, type SyntheticXlmrOptions, type SyntheticXlmrResult } from './synthetic/xlmr.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function xlmrVocabPath(): string {
  return join(llamaSourceDir() as string, 'models', 'ggml-vocab-nomic-bert-moe.gguf');
}

/** 2 layers, hidden 32, 4 heads, FFN 64: small enough for a float64 reference of 512-token pairs. */
export const TINY_XLMR = { layers: 2, hidden: 32, heads: 4, ffn: 64, maxPositions: 512, seed: 20250311, type: GgmlType.F32 } as const;

/** Writes test/fixtures/<name> (about a second; each test file writes its own) and returns its path and weights. */
export async function writeXlmrFixture(
  name: string,
  options: Partial<Omit<SyntheticXlmrOptions, 'vocabGguf'>> = {},
): Promise<{ path: string } & SyntheticXlmrResult> {
  const dir = join(repoRoot, 'test', 'fixtures');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  const partial = `${path}.${process.pid}.partial`;
  const result = await writeSyntheticXlmr(partial, { ...TINY_XLMR, ...options, vocabGguf: xlmrVocabPath() });
  renameSync(partial, path);
  return { path, ...result };
}

/** A query and documents (short, long, other languages, a near miss) the reranker tests score. */
export const QUERY = 'what is a panda?';
export const DOCUMENTS = [
  'hi',
  'The giant panda is a bear species endemic to China.',
  'Paris est la capitale de la France.',
  '熊猫是中国特有的熊科动物。',
  'Pandas is a Python library for data analysis.',
];
