import { describe, expect, it } from 'vitest';
import { FlagAutoModel } from '../src/api/FlagAutoModel.js';
import { FlagICLModel } from '../src/api/FlagICLModel.js';
import { FlagModel } from '../src/api/FlagModel.js';
import { BgeGgufError } from '../src/errors.js';
import { dot } from '../src/vectors/similarity.js';
import { fixturePath } from './support/fixtures.js';
import { GgmlType } from '../src/gguf/types.js';
import { writeMistralFixture } from './support/mistralFixture.js';

const BGE_EN = 'Represent this sentence for searching relevant passages: ';

describe('FlagAutoModel.fromFinetuned', () => {
  it('a registry name gives FlagModel with CLS pooling and the BGE query instruction', async () => {
    const auto = await FlagAutoModel.fromFinetuned('BAAI/bge-small-en-v1.5', { modelPath: fixturePath('tiny-bert-f32.gguf'), threads: 2 });
    const plain = await FlagModel.load(fixturePath('tiny-bert-f32.gguf'), { threads: 2 });
    try {
      expect(auto).toBeInstanceOf(FlagModel);
      const model = auto as FlagModel;
      expect(model.poolingMethod).toBe('cls');
      expect(model.queryInstructionForRetrieval).toBe(BGE_EN);
      const [q] = await model.encodeQueries(['what is a panda?']);
      const [withInstruction] = await plain.encode([`${BGE_EN}what is a panda?`]);
      const [without] = await plain.encode(['what is a panda?']);
      expect(dot(q, withInstruction)).toBeGreaterThan(0.99999);
      expect(dot(q, without)).toBeLessThan(0.9999);
      // passages get no instruction
      const [p] = await model.encodeCorpus(['what is a panda?']);
      expect(dot(p, without)).toBeGreaterThan(0.99999);
    } finally {
      await auto.dispose();
      await plain.dispose();
    }
  });

  it('e5/gte entries pool by mean', async () => {
    const model = (await FlagAutoModel.fromFinetuned('intfloat/e5-small-v2', { modelPath: fixturePath('tiny-bert-f32.gguf'), threads: 2 })) as FlagModel;
    expect(model.poolingMethod).toBe('mean');
    await model.dispose();
  });

  it('an unknown GGUF falls back to its own pooling_type and says so', async () => {
    const messages: string[] = [];
    const model = (await FlagAutoModel.fromFinetuned(fixturePath('tiny-bert-mean-f32.gguf'), { threads: 2, onFallback: (m) => messages.push(m) })) as FlagModel;
    expect(model.poolingMethod).toBe('mean');
    expect(messages.join()).toMatch(/not in the model registry.*pooling_type.*mean/);
    await model.dispose();
  });

  it('bge-en-icl gives FlagICLModel', async () => {
    const { path } = await writeMistralFixture('auto-tiny-mistral.gguf', { type: GgmlType.F32 });
    const model = await FlagAutoModel.fromFinetuned('BAAI/bge-en-icl', { modelPath: path, threads: 2 });
    expect(model).toBeInstanceOf(FlagICLModel);
    await model.dispose();
  });

  it('a decoder-embedder name (FlagLLMModel) on an encoder GGUF is a typed UNSUPPORTED_MODEL error', async () => {
    const error = await FlagAutoModel.fromFinetuned('intfloat/e5-mistral-7b-instruct', { modelPath: fixturePath('tiny-bert-f32.gguf') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BgeGgufError);
    expect((error as BgeGgufError).code).toBe('UNSUPPORTED_MODEL');
  });

  it('a registry name without a known download asks for a path', async () => {
    const error = await FlagAutoModel.fromFinetuned('bge-small-zh-v1.5').catch((e: unknown) => e);
    expect((error as BgeGgufError).code).toBe('MODEL_NOT_FOUND');
    expect((error as Error).message).toMatch(/modelPath/);
  });
});
