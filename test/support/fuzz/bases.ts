/**
 * The fuzzer's seed models: a tiny BERT (arch "bert", WordPiece) and a tiny Mistral (arch "llama",
 * SentencePiece), each with the first tokens of a real vocabulary so llama.cpp loads them in
 * milliseconds; a Gemma-2 and a Qwen2 derived from the Mistral one (their extra keys and tensors;
 * Qwen2 with the first tokens and the merges among them of Qwen2's byte-level BPE vocabulary); two
 * XLM-RoBERTa models (arch "bert", UGM tokenizer with XLM-R's scores, token types and precompiled
 * charsmap): a reranker (rank pooling, classifier head, as bge-reranker-v2-m3) and the same encoder
 * without the head, CLS-pooled (as bge-m3). Written into test/fixtures/fuzz/ on first use.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
// @ts-ignore plain .mjs script without type declarations
import { llamaSourceDir } from '../../../scripts/llama-source.mjs';
import { join } from 'node:path';
import { readGguf } from '../../../src/gguf/reader.js';
import { GgmlType, GgufValueType, type GgufValue } from '../../../src/gguf/types.js';
import { writeGguf } from '../../../src/gguf/writer.js';
import { bgeVocabPath, fixtureDir } from '../fixtures.js';
import { spmVocabPath } from '../mistralFixture.js';
import { writeSyntheticBert } from '../synthetic/bert.js';
import { writeSyntheticMistral } from '../synthetic/mistral.js';
import { writeSyntheticXlmr } from '../synthetic/xlmr.js';
import { xlmrVocabPath } from '../xlmrFixture.js';
import { imageFromFile, serializeImage, type GgufImage } from './image.js';

export type FuzzBase = 'bert' | 'llama' | 'gemma2' | 'qwen2' | 'xlmr' | 'xlmr-m3';
export const FUZZ_BASES: readonly FuzzBase[] = ['bert', 'llama', 'gemma2', 'qwen2', 'xlmr', 'xlmr-m3'];

const VOCAB_TOKENS = 2400; // bge: specials, characters and ~400 whole words; llama: specials, bytes, pieces
const XLMR_VOCAB_TOKENS = 1200; // XLM-R: specials, the commonest pieces and characters, <mask> moved to the last id

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

/** The mutation stream of a base: the first four keep the one earlier campaigns (and their seeds) used. */
export function caseStream(base: FuzzBase): string {
  return ['bert', 'llama', 'gemma2', 'qwen2'].includes(base) ? '' : `${base}:`;
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
    await rename(`${bert}.tmp`, bert);
  }
  const llama = fuzzBasePath('llama');
  if (!existsSync(llama)) {
    const vocab = join(fuzzDir, 'vocab-llama.gguf');
    await trimVocab(spmVocabPath(), vocab, VOCAB_TOKENS);
    await writeSyntheticMistral(`${llama}.tmp`, {
      layers: 2, hidden: 16, heads: 2, kvHeads: 1, ffn: 32, contextLength: 64, type: GgmlType.F32, seed: 11, vocabGguf: vocab,
    });
    await rename(`${llama}.tmp`, llama);
  }
  const xlmr = fuzzBasePath('xlmr');
  if (!existsSync(xlmr)) {
    await writeSyntheticXlmr(`${xlmr}.tmp`, {
      layers: 2, hidden: 16, heads: 2, ffn: 32, maxPositions: 64, type: GgmlType.F32, seed: 13, vocabGguf: xlmrVocabPath(), vocabSize: XLMR_VOCAB_TOKENS,
    });
    await rename(`${xlmr}.tmp`, xlmr);
  }
  const m3 = fuzzBasePath('xlmr-m3');
  if (!existsSync(m3)) {
    const image = await imageFromFile(xlmr);
    toXlmrEncoder(image);
    writeFileSync(`${m3}.tmp`, serializeImage(image));
    await rename(`${m3}.tmp`, m3);
  }
  for (const arch of ['gemma2', 'qwen2'] as const) {
    const path = fuzzBasePath(arch);
    if (existsSync(path)) continue;
    const image = await imageFromFile(llama);
    await (arch === 'gemma2' ? toGemma2(image) : toQwen2(image));
    writeFileSync(`${path}.tmp`, serializeImage(image));
    await rename(`${path}.tmp`, path);
  }
}

const u32 = (value: number): GgufValue => ({ type: GgufValueType.UINT32, value });
const f32 = (value: number): GgufValue => ({ type: GgufValueType.FLOAT32, value });

function renameArch(image: GgufImage, arch: string): void {
  image.kvs = image.kvs.map(([key, value]) => [key.startsWith('llama.') ? `${arch}.${key.slice(6)}` : key, value]);
  image.kvs.find(([key]) => key === 'general.architecture')![1] = { type: GgufValueType.STRING, value: arch };
}

/** Appends an F32 tensor of ones, 32-byte aligned in the data section. */
function addOnes(image: GgufImage, name: string, length: number): void {
  const rel = Math.ceil(image.data.length / 32) * 32;
  const data = Buffer.alloc(length * 4);
  for (let i = 0; i < length; i++) data.writeFloatLE(1, i * 4);
  image.data = Buffer.concat([image.data, Buffer.alloc(rel - image.data.length), data]);
  image.tensors.push({ name, shape: [length], type: GgmlType.F32, rel });
}

async function toGemma2(image: GgufImage): Promise<void> {
  renameArch(image, 'gemma2');
  const hidden = Number(image.kvs.find(([k]) => k === 'gemma2.embedding_length')![1].value);
  const heads = Number(image.kvs.find(([k]) => k === 'gemma2.attention.head_count')![1].value);
  image.kvs.push(
    ['gemma2.attention.key_length', u32(hidden / heads)],
    ['gemma2.attention.value_length', u32(hidden / heads)],
    ['gemma2.attention.sliding_window', u32(32)],
    ['gemma2.attn_logit_softcapping', f32(50)],
    ['gemma2.final_logit_softcapping', f32(30)],
  );
  const layers = Number(image.kvs.find(([k]) => k === 'gemma2.block_count')![1].value);
  for (let i = 0; i < layers; i++) {
    addOnes(image, `blk.${i}.post_attention_norm.weight`, hidden);
    addOnes(image, `blk.${i}.post_ffw_norm.weight`, hidden);
  }
}

/** The reranker without its classifier head (tensors cls.*, the labels), CLS-pooled: bge-m3's layout. */
function toXlmrEncoder(image: GgufImage): void {
  image.tensors = image.tensors.filter((t) => !t.name.startsWith('cls.'));
  image.kvs = image.kvs.filter(([key]) => key !== 'bert.classifier.output_labels');
  image.kvs.find(([key]) => key === 'bert.pooling_type')![1] = u32(2);
  image.kvs.find(([key]) => key === 'general.name')![1] = { type: GgufValueType.STRING, value: 'synthetic-xlmr-encoder' };
}

/** Qwen2's BPE vocabulary cut to the base's token count, keeping the merges whose parts and result survive. */
async function toQwen2(image: GgufImage): Promise<void> {
  renameArch(image, 'qwen2');
  const source = await readGguf(join(llamaSourceDir() as string, 'models', 'ggml-vocab-qwen2.gguf'));
  const all = source.metadata.get('tokenizer.ggml.tokens')!.value as string[];
  const tokens = all.slice(0, VOCAB_TOKENS);
  const kept = new Set(tokens);
  const merges = (source.metadata.get('tokenizer.ggml.merges')!.value as string[]).filter((m) => {
    const [a, b] = m.split(' ');
    return kept.has(a) && kept.has(b) && kept.has(a + b);
  });
  const arr = (itemType: GgufValueType, value: Array<string | number>): GgufValue => ({ type: GgufValueType.ARRAY, itemType, value });
  image.kvs = image.kvs.filter(([key]) => !key.startsWith('tokenizer.'));
  image.kvs.push(
    ['tokenizer.ggml.model', { type: GgufValueType.STRING, value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: GgufValueType.STRING, value: 'qwen2' }],
    ['tokenizer.ggml.tokens', arr(GgufValueType.STRING, tokens)],
    ['tokenizer.ggml.token_type', arr(GgufValueType.INT32, tokens.map(() => 1))],
    ['tokenizer.ggml.merges', arr(GgufValueType.STRING, merges)],
    ['tokenizer.ggml.eos_token_id', u32(0)],
    ['tokenizer.ggml.bos_token_id', u32(0)],
    ['tokenizer.ggml.padding_token_id', u32(0)],
    ['tokenizer.ggml.add_eos_token', { type: GgufValueType.BOOL, value: true }],
  );
}
