/** FlagAutoReranker: FlagEmbedding's reranker mapping (models/registry.json "rerankers"). */
import { beforeAll, describe, expect, it } from 'vitest';
import { FlagAutoReranker, FlagReranker } from '../src/index.js';
import { lookupReranker, rerankerNames } from '../src/models/registry.js';
import { writeXlmrFixture } from './support/xlmrFixture.js';

let path: string;

beforeAll(async () => {
  path = (await writeXlmrFixture('xlmr-auto-reranker.gguf')).path;
});

describe('FlagAutoReranker', () => {
  it("lists FlagEmbedding's rerankers and matches names as FlagEmbedding does (last path component)", () => {
    for (const name of ['bge-reranker-base', 'bge-reranker-large', 'bge-reranker-v2-m3', 'bge-reranker-v2-gemma', 'bge-reranker-v2-minicpm-layerwise']) {
      expect(rerankerNames()).toContain(name);
    }
    expect(lookupReranker('BAAI/bge-reranker-v2-m3')?.entry.class).toBe('FlagReranker');
    expect(lookupReranker('/models/bge-reranker-v2-m3-Q8_0.gguf')?.name).toBe('bge-reranker-v2-m3');
    expect(lookupReranker('BAAI/bge-reranker-v2-gemma')?.entry.class).toBe('FlagLLMReranker');
  });

  it('LLM and layerwise rerankers: a clear "not supported yet"', async () => {
    for (const name of ['BAAI/bge-reranker-v2-gemma', 'BAAI/bge-reranker-v2-minicpm-layerwise', 'BAAI/bge-reranker-v2.5-gemma2-lightweight']) {
      const error = await FlagAutoReranker.fromFinetuned(name, { modelPath: path }).catch((e) => e);
      expect(error.code).toBe('UNSUPPORTED_MODEL');
      expect(error.message).toMatch(/does not support yet.*bge-reranker-v2-m3/);
    }
  });

  it('an encoder reranker name loads FlagReranker from modelPath; without a file it says how to get one', async () => {
    const error = await FlagAutoReranker.fromFinetuned('BAAI/bge-reranker-v2-m3').catch((e) => e);
    expect(error.code).toBe('MODEL_NOT_FOUND');
    expect(error.message).toMatch(/bge-gguf convert/);
    const reranker = await FlagAutoReranker.fromFinetuned('BAAI/bge-reranker-v2-m3', { modelPath: path, threads: 1, normalize: true });
    try {
      expect(reranker).toBeInstanceOf(FlagReranker);
      const score = await reranker.computeScore(['what is a panda?', 'The giant panda is a bear species endemic to China.']);
      expect(score).toBeGreaterThan(0);
      expect(score).toBeLessThan(1);
    } finally {
      await reranker.dispose();
    }
  });
});
