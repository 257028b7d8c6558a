/**
 * HF → GGUF converter: a tiny BertModel checkpoint written here (random weights, the real uncased
 * WordPiece tokenizer) converts to the layout llama.cpp's convert_hf_to_gguf.py writes, loads in
 * llama.cpp, and embeds like an independent float64 BERT over the checkpoint's own weights.
 * Expected vocabulary metadata comes from llama.cpp's ggml-vocab-bert-bge.gguf (written by the
 * Python script for bge-small-en-v1.5, which has the same vocabulary).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertHfToGguf, sizeLabel, type OutType } from '../src/convert/index.js';
import { runCli } from './support/serverProcess.js';
import { BgeGgufError } from '../src/errors.js';
import { FlagModel } from '../src/index.js';
import { readGguf, readTensorF32 } from '../src/gguf/reader.js';
import { GgmlType, GgufValueType, type GgufFile } from '../src/gguf/types.js';
import { syntheticBertWeights, type BertWeights } from './support/synthetic/bert.js';
import { cosine, referenceEmbeddings } from './support/bertReference.js';
import { bgeVocabPath, fixtureDir } from './support/fixtures.js';
import { bertConfig, hfTensors, SHIPPED_TOKENIZER_DIR, writeCheckpoint, writeSafetensors, type StTensor } from './support/hfCheckpoint.js';

const work = join(fixtureDir, 'convert-test');
const ckpt = join(work, 'tiny-bert');
let weights: BertWeights;
let tensors: Record<string, StTensor>;
const converted: Partial<Record<OutType, { path: string; file: GgufFile }>> = {};

const meta = (f: GgufFile, key: string) => f.metadata.get(key)?.value;

async function expectCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const error = await p.then(() => null, (e: unknown) => e);
  expect(error, `expected ${code}`).toBeInstanceOf(BgeGgufError);
  expect((error as BgeGgufError).code).toBe(code);
  if (message) expect((error as Error).message).toMatch(message);
}

beforeAll(async () => {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const { sourceWeights } = await syntheticBertWeights({
    layers: 2, hidden: 64, heads: 4, ffn: 128, maxPositions: 512, type: GgmlType.F32, pooling: 'mean', seed: 7, vocabGguf: bgeVocabPath(),
  });
  weights = sourceWeights;
  tensors = hfTensors(weights);
  writeCheckpoint(ckpt, { tensors, config: bertConfig(weights), tokenizer: 'json', pooling: 'mean' });
  for (const type of ['f32', 'f16', 'q8_0'] as const) {
    const path = join(work, `tiny-${type}.gguf`);
    await convertHfToGguf(ckpt, path, { type, name: 'tiny-bert' });
    converted[type] = { path, file: await readGguf(path) };
  }
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('tensors', () => {
  const perLayer = ['attn_q', 'attn_k', 'attn_v', 'attn_output', 'attn_output_norm', 'ffn_up', 'ffn_down', 'layer_output_norm'];
  const expectedNames = () => {
    const names = ['token_embd', 'token_types', 'position_embd'].map((n) => `${n}.weight`);
    names.push('token_embd_norm.weight', 'token_embd_norm.bias');
    for (let i = 0; i < weights.config.layers; i++) for (const p of perLayer) names.push(`blk.${i}.${p}.weight`, `blk.${i}.${p}.bias`);
    return names.sort();
  };

  it("has exactly llama.cpp's BERT tensor names, pooler and position_ids left out", () => {
    expect(converted.f32!.file.tensors.map((t) => t.name).sort()).toEqual(expectedNames());
  });

  it('stores every tensor with the reversed (ggml) PyTorch shape', () => {
    const { hidden, ffn, vocabSize, maxPositions, typeVocabSize } = weights.config;
    const shapes = new Map(converted.q8_0!.file.tensors.map((t) => [t.name, t.shape]));
    expect(shapes.get('token_embd.weight')).toEqual([hidden, vocabSize]);
    expect(shapes.get('position_embd.weight')).toEqual([hidden, maxPositions]);
    expect(shapes.get('token_types.weight')).toEqual([hidden, typeVocabSize]);
    expect(shapes.get('blk.1.ffn_up.weight')).toEqual([hidden, ffn]);
    expect(shapes.get('blk.1.ffn_down.weight')).toEqual([ffn, hidden]);
    expect(shapes.get('blk.0.attn_q.bias')).toEqual([hidden]);
  });

  it('keeps 1-D tensors, norms, position and token-type embeddings F32; matrices take the output type', () => {
    const alwaysF32 = (name: string, dims: number) =>
      dims === 1 || name.endsWith('_norm.weight') || name === 'position_embd.weight' || name === 'token_types.weight';
    for (const [type, matrixType] of [['f32', GgmlType.F32], ['f16', GgmlType.F16], ['q8_0', GgmlType.Q8_0]] as const) {
      for (const t of converted[type]!.file.tensors) {
        expect([t.name, t.type]).toEqual([t.name, alwaysF32(t.name, t.shape.length) ? GgmlType.F32 : matrixType]);
      }
    }
  });

  it('keeps the checkpoint values bit for bit in F32', async () => {
    const { path, file } = converted.f32!;
    const get = (name: string) => readTensorF32(path, file.tensors.find((t) => t.name === name)!);
    expect(Array.from(await get('token_embd.weight'))).toEqual(Array.from(weights.tokenEmbeddings));
    expect(Array.from(await get('blk.1.ffn_down.weight'))).toEqual(Array.from(weights.layers[1].ffnDown.weight));
    expect(Array.from(await get('blk.0.attn_output_norm.bias'))).toEqual(Array.from(weights.layers[0].attnOutputNorm.bias));
  });
});

describe('metadata', () => {
  let vocabRef: GgufFile;
  beforeAll(async () => {
    vocabRef = await readGguf(bgeVocabPath());
  });

  it('writes the bert hyper-parameters from config.json', () => {
    const f = converted.f16!.file;
    const c = weights.config;
    expect(meta(f, 'general.architecture')).toBe('bert');
    expect(meta(f, 'general.name')).toBe('tiny-bert');
    expect(meta(f, 'bert.block_count')).toBe(c.layers);
    expect(meta(f, 'bert.context_length')).toBe(c.maxPositions);
    expect(meta(f, 'bert.embedding_length')).toBe(c.hidden);
    expect(meta(f, 'bert.feed_forward_length')).toBe(c.ffn);
    expect(meta(f, 'bert.attention.head_count')).toBe(c.heads);
    expect(meta(f, 'bert.attention.layer_norm_epsilon')).toBe(Math.fround(c.layerNormEps));
    expect(meta(f, 'bert.attention.causal')).toBe(false);
    expect(meta(f, 'bert.pooling_type')).toBe(1); // mean, from 1_Pooling/config.json
    expect(meta(f, 'general.file_type')).toBe(1);
    expect(meta(converted.q8_0!.file, 'general.file_type')).toBe(7);
    expect(meta(f, 'general.quantization_version')).toBe(2);
  });

  it('writes the vocabulary the way the Python converter does (llama.cpp ggml-vocab-bert-bge.gguf)', () => {
    const f = converted.f32!.file;
    const ours = meta(f, 'tokenizer.ggml.tokens') as string[];
    const theirs = meta(vocabRef, 'tokenizer.ggml.tokens') as string[];
    expect(ours.length).toBe(theirs.length);
    // That file predates the script's control-token rule: it writes "[unusedN]" without U+2581.
    const differing = ours.map((t, i) => i).filter((i) => ours[i] !== theirs[i]);
    expect(differing.every((i) => /^\[unused\d+\]$/.test(theirs[i]) && ours[i] === `\u2581${theirs[i]}`)).toBe(true);
    expect(differing.length).toBeLessThan(1000);
    expect(meta(f, 'tokenizer.ggml.token_type')).toEqual(meta(vocabRef, 'tokenizer.ggml.token_type'));
    for (const key of ['model', 'token_type_count', 'unknown_token_id', 'seperator_token_id', 'padding_token_id', 'mask_token_id']) {
      expect([key, meta(f, `tokenizer.ggml.${key}`)]).toEqual([key, meta(vocabRef, `tokenizer.ggml.${key}`)]);
    }
  });

  it('derives the special tokens and add flags from tokenizer.json / tokenizer_config.json', () => {
    const f = converted.f32!.file;
    const tj = JSON.parse(readFileSync(join(SHIPPED_TOKENIZER_DIR, 'tokenizer.json'), 'utf8'));
    const id = (content: string) => tj.added_tokens.find((t: { content: string }) => t.content === content).id;
    expect(meta(f, 'tokenizer.ggml.bos_token_id')).toBe(id('[CLS]'));
    expect(meta(f, 'tokenizer.ggml.eos_token_id')).toBe(id('[SEP]'));
    expect(meta(f, 'tokenizer.ggml.add_bos_token')).toBe(true);
    expect(meta(f, 'tokenizer.ggml.add_eos_token')).toBe(true);
    expect(meta(f, 'tokenizer.ggml.add_sep_token')).toBe(false);
    expect(meta(f, 'tokenizer.ggml.normalizer.lowercase')).toBe(true);
    expect(f.metadata.get('tokenizer.ggml.token_type')?.type).toBe(GgufValueType.ARRAY);
  });
});

describe('in llama.cpp', () => {
  const texts = ['Hello world', 'The quick brown fox jumps over the lazy dog.', 'Café naïve — 東京 2024!'];

  for (const [type, minCos] of [['f32', 0.99999], ['f16', 0.9995], ['q8_0', 0.995]] as const) {
    it(`${type}: embeds like the float64 reference over the checkpoint's weights`, async () => {
      // node-llama-cpp: the converter is under test here, not the native engine.
      const model = await FlagModel.load(converted[type]!.path, { poolingMethod: 'mean', threads: 2, engine: 'node-llama-cpp' });
      try {
        const vectors = await model.encode(texts);
        texts.forEach((text, i) => {
          const ref = referenceEmbeddings(weights, model.tokenize(text)).mean;
          expect(cosine(vectors[i], ref)).toBeGreaterThan(minCos);
        });
      } finally {
        await model.dispose();
      }
    });
  }
});

describe('checkpoint variants', () => {
  it('accepts "bert."-prefixed names, F16 / BF16 weights and a vocab.txt-only tokenizer', async () => {
    const dir = join(work, 'variant');
    const prefixed = hfTensors(weights, 'bert.');
    prefixed['bert.encoder.layer.0.intermediate.dense.weight'].dtype = 'F16';
    prefixed['bert.encoder.layer.1.output.dense.weight'].dtype = 'BF16';
    const tj = JSON.parse(readFileSync(join(SHIPPED_TOKENIZER_DIR, 'tokenizer.json'), 'utf8'));
    const byId: string[] = [];
    for (const [tok, id] of Object.entries(tj.model.vocab as Record<string, number>)) byId[id] = tok;
    writeCheckpoint(dir, { tensors: prefixed, config: bertConfig(weights), tokenizer: 'txt' }, byId.join('\n') + '\n');
    const out = join(work, 'variant.gguf');
    const summary = await convertHfToGguf(dir, out, { type: 'f32' });
    expect(summary.tokenizerSource).toBe('vocab.txt');
    expect(summary.pooling).toBeNull();
    const f = await readGguf(out);
    expect(meta(f, 'tokenizer.ggml.tokens')).toEqual(meta(converted.f32!.file, 'tokenizer.ggml.tokens'));
    expect(meta(f, 'tokenizer.ggml.token_type')).toEqual(meta(converted.f32!.file, 'tokenizer.ggml.token_type'));
    expect(f.metadata.has('bert.pooling_type')).toBe(false);
    // Without tokenizer.json the script finds only config.json's pad_token_id (llama.cpp's WordPiece defaults do the rest).
    expect(meta(f, 'tokenizer.ggml.padding_token_id')).toBe(0);
    expect(f.metadata.has('tokenizer.ggml.seperator_token_id')).toBe(false);
    const f16 = await readTensorF32(out, f.tensors.find((t) => t.name === 'blk.0.ffn_up.weight')!);
    const src = weights.layers[0].ffnUp.weight;
    expect(f16.every((v, i) => Math.abs(v - src[i]) <= Math.abs(src[i]) * 2 ** -11 + 2 ** -24)).toBe(true);
    const bf16 = await readTensorF32(out, f.tensors.find((t) => t.name === 'blk.1.ffn_down.weight')!);
    const src2 = weights.layers[1].ffnDown.weight;
    expect(bf16.every((v, i) => Math.abs(v - src2[i]) <= Math.abs(src2[i]) * 2 ** -8)).toBe(true);
  });

  it('takes a pooling override', async () => {
    const out = join(work, 'cls.gguf');
    await convertHfToGguf(ckpt, out, { type: 'f32', pooling: 'cls' });
    expect(meta(await readGguf(out), 'bert.pooling_type')).toBe(2);
  });
});

describe('bad input', () => {
  const out = () => join(work, 'bad.gguf');

  it('a missing folder or config.json is MODEL_NOT_FOUND', async () => {
    await expectCode(convertHfToGguf(join(work, 'nope'), out(), { type: 'f16' }), 'MODEL_NOT_FOUND', /not a directory/);
    mkdirSync(join(work, 'empty'), { recursive: true });
    await expectCode(convertHfToGguf(join(work, 'empty'), out(), { type: 'f16' }), 'MODEL_NOT_FOUND', /config\.json/);
  });

  it('no safetensors is MODEL_NOT_FOUND, naming pytorch_model.bin when that is all there is', async () => {
    const dir = join(work, 'no-weights');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), JSON.stringify(bertConfig(weights)));
    await expectCode(convertHfToGguf(dir, out(), { type: 'f16' }), 'MODEL_NOT_FOUND', /model\.safetensors/);
    writeFileSync(join(dir, 'pytorch_model.bin'), 'x');
    await expectCode(convertHfToGguf(dir, out(), { type: 'f16' }), 'MODEL_NOT_FOUND', /safetensors first/);
  });

  it('a non-BERT architecture is UNSUPPORTED_MODEL', async () => {
    const dir = join(work, 'llama');
    writeCheckpoint(dir, { tensors, config: bertConfig(weights, { architectures: ['LlamaForCausalLM'] }), tokenizer: 'json' });
    await expectCode(convertHfToGguf(dir, out(), { type: 'f16' }), 'UNSUPPORTED_MODEL', /LlamaForCausalLM/);
  });

  it('weights that do not fit config.json, integer weights and unknown tensors are UNSUPPORTED_MODEL', async () => {
    const dir = join(work, 'mismatch');
    writeCheckpoint(dir, { tensors, config: bertConfig(weights, { intermediate_size: 256 }), tokenizer: 'json' });
    await expectCode(convertHfToGguf(dir, out(), { type: 'f16' }), 'UNSUPPORTED_MODEL', /shape/);

    const ints = { ...tensors, 'embeddings.LayerNorm.bias': { dtype: 'I32' as const, shape: [weights.config.hidden], data: new Array(weights.config.hidden).fill(0) } };
    writeCheckpoint(dir, { tensors: ints, config: bertConfig(weights), tokenizer: 'json' });
    await expectCode(convertHfToGguf(dir, out(), { type: 'f16' }), 'UNSUPPORTED_MODEL', /I32/);

    const extra = { ...tensors, 'encoder.layer.0.attention.self.rotary.weight': tensors['embeddings.LayerNorm.bias'] };
    writeCheckpoint(dir, { tensors: extra, config: bertConfig(weights), tokenizer: 'json' });
    await expectCode(convertHfToGguf(dir, out(), { type: 'f16' }), 'UNSUPPORTED_MODEL', /rotary/);

    const missing = { ...tensors };
    delete missing['encoder.layer.1.output.dense.weight'];
    writeCheckpoint(dir, { tensors: missing, config: bertConfig(weights), tokenizer: 'json' });
    await expectCode(convertHfToGguf(dir, out(), { type: 'f16' }), 'UNSUPPORTED_MODEL', /blk\.1\.ffn_down\.weight/);
  });

  it('a corrupt safetensors file is MODEL_LOAD_FAILED', async () => {
    const dir = join(work, 'corrupt');
    writeCheckpoint(dir, { tensors, config: bertConfig(weights), tokenizer: 'json' });
    const header = Buffer.alloc(16);
    header.writeBigUInt64LE(1n << 40n);
    writeFileSync(join(dir, 'model.safetensors'), header);
    await expectCode(convertHfToGguf(dir, out(), { type: 'f16' }), 'MODEL_LOAD_FAILED', /header length/);
    writeSafetensors(join(dir, 'model.safetensors'), { x: { dtype: 'F32', shape: [4], data: [1, 2, 3, 4] } });
    const bytes = readFileSync(join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'model.safetensors'), bytes.subarray(0, bytes.length - 4));
    await expectCode(convertHfToGguf(dir, out(), { type: 'f16' }), 'MODEL_LOAD_FAILED', /past the end/);
  });

  it('a tokenizer that is not WordPiece, or none at all, is refused', async () => {
    const dir = join(work, 'unigram');
    writeCheckpoint(dir, { tensors, config: bertConfig(weights), tokenizer: 'none' });
    await expectCode(convertHfToGguf(dir, out(), { type: 'f16' }), 'MODEL_NOT_FOUND', /tokenizer\.json nor vocab\.txt/);
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ model: { type: 'Unigram', vocab: [['a', 0]] } }));
    await expectCode(convertHfToGguf(dir, out(), { type: 'f16' }), 'UNSUPPORTED_MODEL', /WordPiece/);
  });

  it('a bad type or output folder is INVALID_INPUT, and nothing is written', async () => {
    await expectCode(convertHfToGguf(ckpt, out(), { type: 'q4_0' as OutType }), 'INVALID_INPUT', /f32, f16, q8_0/);
    await expectCode(convertHfToGguf(ckpt, join(work, 'no-such-dir', 'x.gguf'), { type: 'f16' }), 'INVALID_INPUT', /does not exist/);
    expect(existsSync(out())).toBe(false);
  });
});

describe('bge-gguf convert (CLI)', () => {
  it('converts and reports', async () => {
    const out = join(work, 'cli.gguf');
    const run = await runCli(['convert', ckpt, out, '--type', 'q8_0', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ type: 'q8_0', layers: 2, pooling: 'mean', tensorCount: 37 });
    expect(meta(await readGguf(out), 'general.file_type')).toBe(7);
  });

  it('rejects bad arguments with a message naming them', async () => {
    const cases: [string[], RegExp][] = [
      [[ckpt], /missing required argument/],
      [[ckpt, join(work, 'x.gguf'), '--type', 'q4'], /--type/],
      [[ckpt, join(work, 'x.gguf'), '--bogus', '1'], /--bogus/],
      [[ckpt, join(work, 'x.bin')], /\.gguf/],
      [[ckpt, join(work, 'x.gguf'), '--type'], /--type/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli(['convert', ...args]);
      expect(run.code, args.join(' ')).not.toBe(0);
      expect(run.stderr).toMatch(message);
    }
    expect(existsSync(join(work, 'x.gguf'))).toBe(false);
  });
});

describe('sizeLabel (gguf-py size_label)', () => {
  it('rounds like the Python converter', () => {
    expect(sizeLabel(22_565_376)).toBe('23M');
    expect(sizeLabel(109_482_240)).toBe('109M');
    expect(sizeLabel(1_500_000)).toBe('1.5M');
    expect(sizeLabel(7_241_732_096)).toBe('7.2B');
    expect(sizeLabel(33_000)).toBe('33K');
  });
});
