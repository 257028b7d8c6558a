/**
 * `bge-gguf convert` on XLM-RoBERTa checkpoints laid out as BAAI publishes them (synthetic weights,
 * XLM-R's real vocabulary): the GGUF llama.cpp's convert_hf_to_gguf.py writes (UGM tokenizer with
 * scores and charsmap, position table without its 2 pad rows, classifier head as cls / cls.output),
 * loaded by llama.cpp and scored against the float64 reference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagReranker } from '../src/api/FlagReranker.js';
import { convertHfToGguf } from '../src/convert/index.js';
import { readGguf, readTensorF32 } from '../src/gguf/reader.js';
import { GgmlType } from '../src/gguf/types.js';
import { syntheticXlmrWeights, XLMR_POSITION_OFFSET, type XlmrWeights } from './support/synthetic/xlmr.js';
import { writeXlmrCheckpoint, xlmrVocab } from './support/xlmrCheckpoint.js';
import { TINY_XLMR, xlmrVocabPath } from './support/xlmrFixture.js';
import { referenceRerankScore } from './support/xlmrReference.js';

let work: string;
let weights: XlmrWeights;
let vocab: Awaited<ReturnType<typeof xlmrVocab>>;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'bge-gguf-xlmr-'));
  weights = (await syntheticXlmrWeights({ ...TINY_XLMR, vocabGguf: xlmrVocabPath() })).weights;
  vocab = await xlmrVocab(xlmrVocabPath());
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('convert: XLMRobertaForSequenceClassification (bge-reranker layout)', () => {
  it('writes the GGUF layout llama.cpp expects, from sentencepiece.bpe.model + tokenizer.json', async () => {
    const dir = join(work, 'reranker');
    writeXlmrCheckpoint(dir, weights, vocab, { architecture: 'XLMRobertaForSequenceClassification', tokenizerFiles: ['sentencepiece.bpe.model', 'tokenizer.json'] });
    const out = join(work, 'reranker-f32.gguf');
    const summary = await convertHfToGguf(dir, out, { type: 'f32' });
    expect(summary).toMatchObject({ architecture: 'XLMRobertaForSequenceClassification', contextLength: 512, vocabSize: 250002, pooling: 'rank', tokenizerSource: 'sentencepiece.bpe.model' });

    const gguf = await readGguf(out);
    const meta = (key: string) => gguf.metadata.get(key)?.value;
    expect(meta('general.architecture')).toBe('bert');
    expect(meta('tokenizer.ggml.model')).toBe('t5');
    expect(meta('bert.context_length')).toBe(512);
    expect(meta('bert.pooling_type')).toBe(4);
    expect(meta('bert.classifier.output_labels')).toEqual(['LABEL_0']);
    expect(meta('tokenizer.ggml.add_space_prefix')).toBe(true);
    expect(meta('tokenizer.ggml.remove_extra_whitespaces')).toBe(true);
    expect(Uint8Array.from(meta('tokenizer.ggml.precompiled_charsmap') as number[])).toEqual(vocab.charsmap);
    // fairseq ids: the SentencePiece file's pieces realigned as HF does; 250001 (<mask>, not in the file) is padding
    const tokens = meta('tokenizer.ggml.tokens') as string[];
    expect(tokens.slice(0, 250001)).toEqual(vocab.tokens.slice(0, 250001));
    expect(tokens[250001]).toBe('[PAD250000]');
    expect((meta('tokenizer.ggml.scores') as number[]).slice(4, 250001)).toEqual(vocab.scores.slice(4, 250001).map(Math.fround));
    expect((meta('tokenizer.ggml.token_type') as number[]).slice(0, 6)).toEqual([3, 3, 3, 2, 1, 1]);
    for (const [key, id] of [['bos', 0], ['eos', 2], ['unknown', 3], ['padding', 1]] as const) expect(meta(`tokenizer.ggml.${key}_token_id`)).toBe(id);
    expect(meta('tokenizer.ggml.add_bos_token')).toBe(true);
    expect(meta('tokenizer.ggml.add_eos_token')).toBe(true);

    const byName = new Map(gguf.tensors.map((t) => [t.name, t]));
    const hidden = TINY_XLMR.hidden;
    expect(byName.get('position_embd.weight')?.shape).toEqual([hidden, 512]);
    const positions = await readTensorF32(out, byName.get('position_embd.weight')!);
    expect(Array.from(positions)).toEqual(Array.from(weights.encoder.positionEmbeddings.slice(XLMR_POSITION_OFFSET * hidden)));
    expect(byName.get('cls.weight')?.shape).toEqual([hidden, hidden]);
    expect(byName.get('cls.output.weight')?.shape).toEqual([hidden, 1]);
    expect(await readTensorF32(out, byName.get('cls.output.weight')!)).toEqual(weights.classifier.outProj.weight);
    expect(byName.get('token_types.weight')?.shape).toEqual([hidden, 1]);
    expect([...byName.keys()].some((n) => n.includes('pooler') || n.includes('position_ids'))).toBe(false);
  });

  it('llama.cpp loads the converted reranker; its scores match the float64 reference', async () => {
    const reranker = await FlagReranker.load(join(work, 'reranker-f32.gguf'), { threads: 2, flashAttention: false });
    try {
      const pairs: Array<[string, string]> = [
        ['what is a panda?', 'The giant panda is a bear species endemic to China.'],
        ['Wie heißt die Hauptstadt von Frankreich?', 'Paris est la capitale de la France.'],
        ['机器学习', 'Машинное обучение — это раздел искусственного интеллекта.'],
      ];
      const scores = await reranker.computeScore(pairs);
      const ids = await reranker.pairIds(pairs);
      pairs.forEach((_, i) => expect(Math.abs(scores[i] - referenceRerankScore(weights, ids[i]))).toBeLessThanOrEqual(1e-4));
    } finally {
      await reranker.dispose();
    }
  });

  it('tokenizer.json alone and F16: the same vocabulary, matrices in F16', async () => {
    const dir = join(work, 'reranker-json');
    writeXlmrCheckpoint(dir, weights, vocab, { architecture: 'XLMRobertaForSequenceClassification', tokenizerFiles: ['tokenizer.json'] });
    const out = join(work, 'reranker-f16.gguf');
    const summary = await convertHfToGguf(dir, out, { type: 'f16' });
    expect(summary.tokenizerSource).toBe('tokenizer.json');
    const gguf = await readGguf(out);
    const tokens = gguf.metadata.get('tokenizer.ggml.tokens')!.value as string[];
    expect(tokens).toEqual(vocab.tokens);
    expect((gguf.metadata.get('tokenizer.ggml.token_type')!.value as number[])[250001]).toBe(3); // <mask>: special
    const types = new Map(gguf.tensors.map((t) => [t.name, t.type]));
    expect(types.get('cls.weight')).toBe(GgmlType.F16);
    expect(types.get('blk.0.attn_q.weight')).toBe(GgmlType.F16);
    expect(types.get('position_embd.weight')).toBe(GgmlType.F32);
    expect(types.get('cls.output.bias')).toBe(GgmlType.F32);
  });

  it('pytorch_model.bin (torch.save zip) gives the same GGUF tensors as model.safetensors', async () => {
    const dir = join(work, 'reranker-bin');
    writeXlmrCheckpoint(dir, weights, vocab, { architecture: 'XLMRobertaForSequenceClassification', tokenizerFiles: ['sentencepiece.bpe.model'], weights: 'pytorch_model.bin' });
    const out = join(work, 'reranker-bin.gguf');
    await convertHfToGguf(dir, out, { type: 'f32' });
    const [a, b] = [await readGguf(out), await readGguf(join(work, 'reranker-f32.gguf'))];
    expect(a.tensors.map((t) => [t.name, t.shape, t.type])).toEqual(b.tensors.map((t) => [t.name, t.shape, t.type]));
    for (let i = 0; i < a.tensors.length; i++) {
      const [x, y] = [await readTensorF32(out, a.tensors[i]), await readTensorF32(join(work, 'reranker-f32.gguf'), b.tensors[i])];
      expect(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength)), a.tensors[i].name).toBe(true);
    }
  });

  it('XLMRobertaModel (bge-m3 layout): no classifier, no rank pooling', async () => {
    const dir = join(work, 'encoder');
    writeXlmrCheckpoint(dir, weights, vocab, { architecture: 'XLMRobertaModel', tokenizerFiles: ['sentencepiece.bpe.model', 'tokenizer.json'] });
    const out = join(work, 'encoder.gguf');
    const summary = await convertHfToGguf(dir, out, { type: 'f32' });
    expect(summary.pooling).toBeNull();
    const gguf = await readGguf(out);
    expect(gguf.tensors.some((t) => t.name.startsWith('cls'))).toBe(false);
    expect(gguf.metadata.has('bert.pooling_type')).toBe(false);
    const error = await FlagReranker.load(out, { threads: 1 }).catch((e) => e);
    expect(error.code).toBe('UNSUPPORTED_MODEL');
  });
});
