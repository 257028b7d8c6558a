import { describe, expect, it } from 'vitest';
import { lookupModel, registryNames } from '../src/models/registry.js';
import { parseHfUri, resolveModelFile } from '../src/models/resolve.js';
import { BgeGgufError, ModelNotFoundError } from '../src/errors.js';

describe('model registry (FlagAutoModel data)', () => {
  it('matches names, org ids, GGUF file names and hf: URIs to the right entry', () => {
    for (const name of ['bge-small-en-v1.5', 'BAAI/bge-small-en-v1.5', 'models/bge-small-en-v1.5-q8_0.gguf', 'hf:ChristianAzinn/bge-small-en-v1.5-gguf/bge-small-en-v1.5.Q8_0.gguf']) {
      expect(lookupModel(name)?.name).toBe('bge-small-en-v1.5');
    }
    expect(lookupModel('BAAI/bge-small-en')?.name).toBe('bge-small-en');
  });

  it('carries BGE pooling and instructions', () => {
    expect(lookupModel('bge-base-en-v1.5')?.entry).toMatchObject({ class: 'FlagModel', pooling: 'cls', queryInstructionForRetrieval: 'Represent this sentence for searching relevant passages: ' });
    expect(lookupModel('bge-large-zh-v1.5')?.entry.queryInstructionForRetrieval).toBe('为这个句子生成表示以用于检索相关文章：');
    expect(lookupModel('bge-m3')?.entry).toMatchObject({ pooling: 'cls' });
    expect(lookupModel('bge-en-icl')?.entry).toMatchObject({ class: 'FlagICLModel', pooling: 'last', queryInstructionFormat: '<instruct>{}\n<query>{}' });
    expect(lookupModel('intfloat/e5-base-v2')?.entry.pooling).toBe('mean');
    expect(lookupModel('thenlper/gte-small')?.entry.pooling).toBe('mean');
    expect(lookupModel('multilingual-e5-large-instruct')?.entry.queryInstructionFormat).toBe('Instruct: {}\nQuery: {}');
  });

  it('knows nothing of unrelated files', () => {
    expect(lookupModel('test/fixtures/tiny-bert-f32.gguf')).toBeNull();
    expect(registryNames()).toContain('bge-small-zh-v1.5');
  });
});

describe('model files', () => {
  it('parses hf: URIs and rejects malformed ones', () => {
    expect(parseHfUri('hf:org/repo/sub/file.Q8_0.gguf')).toEqual({ repo: 'org/repo', file: 'sub/file.Q8_0.gguf', revision: 'main' });
    expect(parseHfUri('hf:org/repo@v1/file.gguf').revision).toBe('v1');
    expect(() => parseHfUri('hf:org/file.gguf')).toThrow(ModelNotFoundError);
  });

  it('a missing local file is a ModelNotFoundError naming the path', async () => {
    await expect(resolveModelFile('/nonexistent/model.gguf')).rejects.toThrow(/no model file at \/nonexistent\/model\.gguf/);
  });

  it('an uncached hf: model offline fails fast with a NETWORK error that says what to do', async () => {
    process.env.BGE_GGUF_CACHE = '/tmp/bge-gguf-test-cache-empty';
    process.env.HF_HUB_OFFLINE = '1';
    try {
      const error = await resolveModelFile('hf:BAAI/none/x.gguf').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BgeGgufError);
      expect((error as BgeGgufError).code).toBe('NETWORK');
      expect((error as Error).message).toMatch(/offline/);
    } finally {
      delete process.env.HF_HUB_OFFLINE;
      delete process.env.BGE_GGUF_CACHE;
    }
  });

  it('an unreachable hub gives a NETWORK error, not a crash', async () => {
    process.env.BGE_GGUF_CACHE = '/tmp/bge-gguf-test-cache-empty';
    process.env.HF_ENDPOINT = 'http://127.0.0.1:9'; // discard port: connection refused
    try {
      const error = await resolveModelFile('hf:BAAI/none/x.gguf').catch((e: unknown) => e);
      expect((error as BgeGgufError).code).toBe('NETWORK');
      expect((error as Error).message).toMatch(/could not download/);
    } finally {
      delete process.env.HF_ENDPOINT;
      delete process.env.BGE_GGUF_CACHE;
    }
  });
});
