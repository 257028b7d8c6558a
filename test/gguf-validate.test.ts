/**
 * Corrupt GGUF headers that made llama.cpp abort the process (issue 10, probed in child processes):
 * each must now be a CORRUPT_MODEL error naming the field, before llama.cpp sees the file, and
 * loading it in a child process must end in that typed error, never a signal.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BgeGgufError, CorruptModelError } from '../src/errors.js';
import { CorruptModelError as ExportedCorruptModelError } from '../src/index.js';
import { readGguf } from '../src/gguf/reader.js';
import { GgufValueType, type GgufValue } from '../src/gguf/types.js';
import { validateGguf } from '../src/gguf/validate.js';
import { ensureFuzzBases, FUZZ_BASES, fuzzBasePath, fuzzDir, type FuzzBase } from './support/fuzz/bases.js';
import { loadFilesInChild, type CaseResult } from './support/fuzz/campaign.js';
import { cloneImage, imageFromFile, serializeImage, type GgufImage } from './support/fuzz/image.js';
import { retypeTensor } from './support/fuzz/mutate.js';
import { corruptCharsmapWalk } from './support/fuzz/mutateUgm.js';
import { fixturePath, FIXTURES, repoRoot } from './support/fixtures.js';

const u32 = (value: number): GgufValue => ({ type: GgufValueType.UINT32, value });
const f32 = (value: number): GgufValue => ({ type: GgufValueType.FLOAT32, value });

function setKey(image: GgufImage, key: string, value: GgufValue): void {
  const entry = image.kvs.find(([k]) => k === key);
  if (entry) entry[1] = value;
  else image.kvs.push([key, value]);
}

function setItem(image: GgufImage, key: string, index: number, item: string | number): void {
  const value = image.kvs.find(([k]) => k === key)![1];
  if (value.type !== GgufValueType.ARRAY) throw new Error(`${key} is not an array`);
  value.value[index] = item;
}

function tokenAt(image: GgufImage, index: number): string {
  const tokens = image.kvs.find(([k]) => k === 'tokenizer.ggml.tokens')![1];
  return String((tokens.value as string[])[index]);
}

/** general.alignment 8, with a comment sized so the data section starts off a 32-byte boundary. */
function misalign(image: GgufImage): void {
  image.alignment = 8;
  image.kvs.push(['general.alignment', u32(8)], ['general.comment', { type: GgufValueType.STRING, value: '' }]);
  const comment = image.kvs[image.kvs.length - 1];
  while ((serializeImage(image).length - image.data.length) % 32 === 0) comment[1] = { type: GgufValueType.STRING, value: `${comment[1].value}x` };
}

interface CorruptCase {
  name: string;
  base: FuzzBase;
  edit: (image: GgufImage) => void;
  /** The field the error must name. */
  field: string;
  code?: 'CORRUPT_MODEL' | 'UNSUPPORTED_MODEL';
}

/** Every case issue 10 lists under "Why", and the others the brief names. */
const CASES: CorruptCase[] = [
  { name: 'block_count 0', base: 'bert', edit: (i) => setKey(i, 'bert.block_count', u32(0)), field: 'bert.block_count' },
  { name: 'block_count 513', base: 'bert', edit: (i) => setKey(i, 'bert.block_count', u32(513)), field: 'bert.block_count' },
  { name: 'block_count 1e6', base: 'bert', edit: (i) => setKey(i, 'bert.block_count', u32(1e6)), field: 'bert.block_count' },
  { name: 'block_count 1 with 2 layers of tensors', base: 'bert', edit: (i) => setKey(i, 'bert.block_count', u32(1)), field: 'blk.1' },
  { name: 'garbage token type 100', base: 'bert', edit: (i) => setItem(i, 'tokenizer.ggml.token_type', 1000, 100), field: 'tokenizer.ggml.token_type[1000]' },
  { name: 'token type -1', base: 'llama', edit: (i) => setItem(i, 'tokenizer.ggml.token_type', 7, -1), field: 'tokenizer.ggml.token_type[7]' },
  { name: 'byte token type in a WordPiece vocab', base: 'bert', edit: (i) => setItem(i, 'tokenizer.ggml.token_type', 2000, 6), field: 'tokenizer.ggml.token_type[2000]' },
  { name: 'layer_norm_epsilon NaN', base: 'bert', edit: (i) => setKey(i, 'bert.attention.layer_norm_epsilon', f32(NaN)), field: 'bert.attention.layer_norm_epsilon' },
  { name: 'layer_norm_epsilon negative', base: 'bert', edit: (i) => setKey(i, 'bert.attention.layer_norm_epsilon', f32(-1e-5)), field: 'bert.attention.layer_norm_epsilon' },
  { name: 'rms epsilon NaN', base: 'llama', edit: (i) => setKey(i, 'llama.attention.layer_norm_rms_epsilon', f32(NaN)), field: 'llama.attention.layer_norm_rms_epsilon' },
  { name: 'heads not dividing the width', base: 'bert', edit: (i) => setKey(i, 'bert.attention.head_count', u32(3)), field: 'bert.attention.head_count' },
  { name: 'kv heads 0', base: 'llama', edit: (i) => setKey(i, 'llama.attention.head_count_kv', u32(0)), field: 'llama.attention.head_count_kv' },
  { name: 'kv heads not dividing heads', base: 'llama', edit: (i) => setKey(i, 'llama.attention.head_count_kv', u32(3)), field: 'llama.attention.head_count_kv' },
  { name: 'bos id out of range', base: 'llama', edit: (i) => setKey(i, 'tokenizer.ggml.bos_token_id', u32(2400)), field: 'tokenizer.ggml.bos_token_id' },
  { name: 'separator id out of range', base: 'bert', edit: (i) => setKey(i, 'tokenizer.ggml.seperator_token_id', u32(1e6)), field: 'tokenizer.ggml.seperator_token_id' },
  { name: 'context length 0', base: 'bert', edit: (i) => setKey(i, 'bert.context_length', u32(0)), field: 'bert.context_length' },
  { name: 'context length not matching position_embd', base: 'bert', edit: (i) => setKey(i, 'bert.context_length', u32(128)), field: 'tensor position_embd.weight' },
  { name: 'embedding width not matching the tensors', base: 'llama', edit: (i) => { setKey(i, 'llama.embedding_length', u32(32)); setKey(i, 'llama.rope.dimension_count', u32(16)); }, field: 'tensor token_embd.weight' },
  { name: 'a tensor shape inconsistent with the hyper-parameters', base: 'bert', edit: (i) => { i.tensors.find((t) => t.name === 'blk.0.ffn_up.weight')!.shape = [16, 48]; }, field: 'tensor blk.0.ffn_up.weight' },
  { name: 'a missing layer tensor', base: 'llama', edit: (i) => { i.tensors = i.tensors.filter((t) => t.name !== 'blk.1.ffn_gate.weight'); }, field: 'tensor blk.1.ffn_gate.weight' },
  { name: 'a duplicated token', base: 'bert', edit: (i) => setItem(i, 'tokenizer.ggml.tokens', 2300, tokenAt(i, 2299)), field: 'tokenizer.ggml.tokens[' },
  { name: 'misaligned tensor data', base: 'bert', edit: misalign, field: 'tensor token_embd.weight' },
  { name: 'a quantized norm weight', base: 'bert', edit: (i) => { i.tensors.find((t) => t.name === 'token_embd_norm.weight')!.type = 8; }, field: 'tensor token_embd_norm.weight' },
  { name: 'a mixture-of-experts key on a dense model', base: 'llama', edit: (i) => setKey(i, 'llama.expert_count', u32(8)), field: 'llama.expert_count' },
  { name: 'an unknown rope scaling type', base: 'llama', edit: (i) => setKey(i, 'llama.rope.scaling.type', { type: GgufValueType.STRING, value: 'warp' }), field: 'llama.rope.scaling.type' },
  { name: 'an output width other than the hidden width', base: 'llama', edit: (i) => setKey(i, 'llama.embedding_length_out', u32(4096)), field: 'llama.embedding_length_out' },
  { name: 'RoPE over part of a head', base: 'qwen2', edit: (i) => setKey(i, 'qwen2.rope.dimension_count', u32(2)), field: 'qwen2.rope.dimension_count' },
  { name: 'an integer-typed weight matrix', base: 'llama', edit: (i) => retypeTensor(i, 'blk.0.attn_q.weight', 26), field: 'tensor blk.0.attn_q.weight' },
  { name: 'a string where a count belongs', base: 'bert', edit: (i) => setKey(i, 'bert.feed_forward_length', { type: GgufValueType.STRING, value: '32' }), field: 'bert.feed_forward_length' },
  { name: 'an unknown architecture', base: 'bert', edit: (i) => setKey(i, 'general.architecture', { type: GgufValueType.STRING, value: 'mamba' }), field: 'mamba', code: 'UNSUPPORTED_MODEL' },
];

const images = new Map<FuzzBase, GgufImage>();
const caseFile = (index: number) => join(fuzzDir, `why-${index}.gguf`);

beforeAll(async () => {
  await ensureFuzzBases();
  for (const base of FUZZ_BASES) images.set(base, await imageFromFile(fuzzBasePath(base)));
  mkdirSync(fuzzDir, { recursive: true });
  CASES.forEach((c, index) => {
    const image = cloneImage(images.get(c.base)!);
    c.edit(image);
    writeFileSync(caseFile(index), serializeImage(image));
  });
});

describe('validateGguf', () => {
  it.each(CASES.map((c, index) => [c.name, index] as const))('%s → a typed error naming the field', async (_name, index) => {
    const c = CASES[index];
    const path = caseFile(index);
    const error = await readGguf(path).then((file) => validateGguf(file, path)).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(BgeGgufError);
    expect((error as BgeGgufError).code).toBe(c.code ?? 'CORRUPT_MODEL');
    expect((error as Error).message).toContain(c.field);
    if (!c.code) {
      expect(error).toBeInstanceOf(CorruptModelError);
      expect((error as CorruptModelError).field).toContain(c.field.replace(/^tensor /, ''));
    }
  });

  it('accepts the real and synthetic models the project ships or tests with', async () => {
    const files = [
      join(repoRoot, 'models', 'all-minilm-l6-v2-q8_0.gguf'),
      ...Object.keys(FIXTURES).map((name) => fixturePath(name as keyof typeof FIXTURES)),
      ...FUZZ_BASES.map(fuzzBasePath),
    ];
    for (const path of files) await validateGguf(await readGguf(path), path);
  });

  it('CorruptModelError is exported from the package entry', () => {
    expect(ExportedCorruptModelError).toBe(CorruptModelError);
  });
});

describe('the same files through the public API in a child process', () => {
  it('every case ends in its typed error, none kills the process', async () => {
    const results = await loadFilesInChild(CASES.map((_, index) => caseFile(index)));
    expect(results).toHaveLength(CASES.length);
    for (const [index, c] of CASES.entries()) {
      const r = results[index];
      expect(r.death, `${c.name} killed the child`).toBeUndefined();
      expect(r.untyped, `${c.name} threw an untyped error`).toBeUndefined();
      expect({ name: c.name, code: r.code }).toEqual({ name: c.name, code: c.code ?? 'CORRUPT_MODEL' });
    }
  });

  it('without the check, llama.cpp really aborts on these files (the cases are not vacuous)', async () => {
    // the addon directly, bypassing validateGguf: block_count 513 (GGML_ASSERT at load), epsilon NaN (at the first
    // encode), an output width llama.cpp sizes buffers with, an I32 matrix (segfault in the CPU kernels), partial RoPE
    const killers = ['block_count 513', 'layer_norm_epsilon NaN', 'an output width other than the hidden width', 'an integer-typed weight matrix', 'RoPE over part of a head'].map((name) => CASES.findIndex((c) => c.name === name));
    const { spawnSync } = await import('node:child_process');
    for (const index of killers) {
      const child = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/fuzz/rawLoad.ts'), caseFile(index)], { cwd: repoRoot, encoding: 'utf8' });
      expect(['SIGABRT', 'SIGSEGV'], CASES[index].name).toContain(child.signal);
    }
  });
});

/**
 * XLM-R (UGM) files that pass validateGguf and llama.cpp's load but that our own Unigram tokenizer
 * (src/tokens/unigram.ts, precompiledCharsmap.ts) cannot use; found by the fuzz campaign's xlmr bases,
 * where they ended in INVALID_INPUT errors blaming the caller's text ("token id -1 outside the
 * vocabulary", "precompiled charsmap: trie index out of range"), or, in llama.cpp's own UGM tokenizer,
 * an ENCODE_FAILED with only "Index out of array bounds in XCDA array!". Each must be a CORRUPT_MODEL naming the field.
 */
describe('XLM-R (UGM) vocabularies our tokenizer reads, through FlagReranker and BGEM3FlagModel in a child process', () => {
  const charsmap = (image: GgufImage) => image.kvs.find(([k]) => k === 'tokenizer.ggml.precompiled_charsmap')![1].value as number[];
  const ugmCases: Array<Omit<CorruptCase, 'base'> & { base: 'xlmr' | 'xlmr-m3' }> = [
    { name: 'a piece score of -Infinity ("▁")', base: 'xlmr', edit: (i) => setItem(i, 'tokenizer.ggml.scores', 6, -Infinity), field: 'tokenizer.ggml.scores[6]' },
    { name: 'a piece score of +Infinity', base: 'xlmr-m3', edit: (i) => setItem(i, 'tokenizer.ggml.scores', 500, Infinity), field: 'tokenizer.ggml.scores[500]' },
    {
      name: 'a charsmap trie size llama.cpp accepts that is not whole units',
      base: 'xlmr-m3',
      edit: (i) => { const b = charsmap(i); b[0] = (b[0] + 1) & 0xff; },
      field: 'tokenizer.ggml.precompiled_charsmap',
    },
    {
      name: 'a charsmap trie link past the array on the walk of a full-width letter (at the first encode)',
      base: 'xlmr',
      edit: (i) => { expect(corruptCharsmapWalk(charsmap(i), 'Ｔ', 0, 'far-base')).toBeGreaterThan(0); },
      field: 'tokenizer.ggml.precompiled_charsmap',
    },
    {
      name: 'the same link past the array, in an encoder',
      base: 'xlmr-m3',
      edit: (i) => { expect(corruptCharsmapWalk(charsmap(i), 'Ｔ', 0, 'far-base')).toBeGreaterThan(0); },
      field: 'tokenizer.ggml.precompiled_charsmap',
    },
    // a model property, not the caller's input: was INVALID_INPUT
    { name: 'an encoder marked causal, loaded as BGE-M3', base: 'xlmr-m3', edit: (i) => setKey(i, 'bert.attention.causal', { type: GgufValueType.BOOL, value: true }), field: 'is a decoder model', code: 'UNSUPPORTED_MODEL' },
  ];
  const ugmFile = (index: number) => join(fuzzDir, `ugm-${index}.gguf`);
  const outcomes = new Map<number, CaseResult>();

  beforeAll(async () => {
    for (const base of ['xlmr', 'xlmr-m3'] as const) {
      const indices = [...ugmCases.keys()].filter((index) => ugmCases[index].base === base);
      for (const index of indices) {
        const image = cloneImage(await imageFromFile(fuzzBasePath(base)));
        ugmCases[index].edit(image);
        writeFileSync(ugmFile(index), serializeImage(image));
      }
      const results = await loadFilesInChild(indices.map(ugmFile), base);
      results.forEach((r) => outcomes.set(indices[r.index], r));
    }
  });

  it.each(ugmCases.map((c, index) => [c.name, index] as const))('%s → a typed error naming the field', async (_name, index) => {
    const c = ugmCases[index];
    await validateGguf(await readGguf(ugmFile(index)), ugmFile(index)); // the header itself is fine
    const r = outcomes.get(index)!;
    expect(r.death, 'killed the child').toBeUndefined();
    expect(r.untyped, 'threw an untyped error').toBeUndefined();
    expect({ code: r.code, named: r.message?.includes(c.field) }).toEqual({ code: c.code ?? 'CORRUPT_MODEL', named: true });
  });

  it("llama.cpp's own UGM tokenizer (add_space_prefix false) on a link past the array: CORRUPT_MODEL, not a signal", async () => {
    const image = cloneImage(await imageFromFile(fuzzBasePath('xlmr')));
    corruptCharsmapWalk(charsmap(image), 'Ｔ', 0, 'far-base');
    setKey(image, 'tokenizer.ggml.add_space_prefix', { type: GgufValueType.BOOL, value: false });
    const file = join(fuzzDir, 'ugm-llama-tokenizer.gguf');
    writeFileSync(file, serializeImage(image));
    const [r] = await loadFilesInChild([file], 'xlmr');
    expect(r.death).toBeUndefined();
    expect(r.untyped).toBeUndefined();
    // llama.cpp's tokenizer throws "Index out of array bounds in XCDA array!" (was ENCODE_FAILED with only that text)
    expect({ code: r.code, named: r.message?.includes('tokenizer.ggml.precompiled_charsmap') }).toEqual({ code: 'CORRUPT_MODEL', named: true });
  });
});
