import { describe, expect, it } from 'vitest';
import { FlagAutoModel } from '../src/api/FlagAutoModel.js';
import { FlagICLModel } from '../src/api/FlagICLModel.js';
import { FlagModel } from '../src/api/FlagModel.js';
import { checkOptions, suggest } from '../src/api/validate.js';
import { flagModelSchema } from '../src/api/options.js';
import { BgeGgufError } from '../src/errors.js';
import { fixturePath } from './support/fixtures.js';
import { writeMistralFixture } from './support/mistralFixture.js';
import { GgmlType } from '../src/gguf/types.js';

async function failure(action: () => Promise<unknown>): Promise<BgeGgufError> {
  const error = await action().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BgeGgufError);
  return error as BgeGgufError;
}

const model = () => fixturePath('tiny-bert-f32.gguf');

describe('load options are checked', () => {
  it.each([
    [{ engine: 'foo' }, /option engine must be one of 'auto', 'native', 'node-llama-cpp', got "foo"/],
    [{ normalizeEmbeddings: 'no' }, /option normalizeEmbeddings must be a boolean/],
    [{ batchSize: 0 }, /option batchSize must be a positive integer/],
    [{ batchSize: 2.5 }, /option batchSize must be a positive integer/],
    [{ threads: '4' }, /option threads must be a positive integer, got "4"/],
    [{ gpu: 'opencl' }, /option gpu must be one of/],
    [{ truncateDim: -1 }, /option truncateDim must be a positive integer or null/],
    [{ poolingMethod: 'max' }, /option poolingMethod must be one of 'cls', 'mean'/],
    [{ signal: {} }, /option signal must be an AbortSignal/],
    [{ onDownloadProgress: 1 }, /option onDownloadProgress must be a function/],
    [{ queryInstructionForRetrieval: 5 }, /must be a string or null/],
    [{ pooling_method: 'cls' }, /unknown option "pooling_method"; did you mean "poolingMethod"\?/],
    [{ normalize_embeddings: false }, /did you mean "normalizeEmbeddings"/],
    [{ normaliseEmbeddings: false }, /did you mean "normalizeEmbeddings"/],
    [{ 'batch-size': 4 }, /did you mean "batchSize"/],
    [{ flux: 1 }, /unknown option "flux" \(known: /],
  ])('FlagModel.load(path, %j) is an INVALID_INPUT error', async (options, message) => {
    const error = await failure(() => FlagModel.load(model(), options as never));
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/^FlagModel.load: /);
  });

  it('options that are not an object are refused', async () => {
    for (const options of [null, 5, 'cls', [1]]) {
      const error = await failure(() => FlagModel.load(model(), options as never));
      expect(error.code).toBe('INVALID_INPUT');
    }
  });

  it('undefined values count as absent (what a CLI passes for unset flags)', async () => {
    const loaded = await FlagModel.load(model(), { threads: undefined, batchSize: undefined, poolingMethod: undefined });
    await loaded.dispose();
  });

  it('FlagICLModel.load and FlagAutoModel.fromFinetuned check their options before loading anything', async () => {
    const icl = await failure(() => FlagICLModel.load(model(), { examples_for_task: [] } as never));
    expect(icl.message).toMatch(/did you mean "examplesForTask"/);
    const holes = await failure(() => FlagICLModel.load(model(), { examplesForTask: [{ query: 'a' }, , { query: 'b' }] } as never));
    expect(holes.message).toMatch(/without holes/);
    const badExample = await failure(() => FlagICLModel.load(model(), { examplesForTask: [{ qeury: 'a' }] } as never));
    expect(badExample.message).toMatch(/unknown "qeury"/);
    const auto = await failure(() => FlagAutoModel.fromFinetuned('BAAI/bge-small-en-v1.5', { modelPath: model(), query_instruction_for_retrieval: 'x' } as never));
    expect(auto.message).toMatch(/did you mean "queryInstructionForRetrieval"/);
    const wrongClass = await failure(() => FlagAutoModel.fromFinetuned('BAAI/bge-small-en-v1.5', { modelPath: model(), suffix: '\n' }));
    expect(wrongClass.message).toMatch(/suffix does not apply to bge-small-en-v1.5, which loads as FlagModel/);
  });

  it('an empty model name is an error for every class, not the default model', async () => {
    expect((await failure(() => FlagModel.load(''))).code).toBe('MODEL_NOT_FOUND');
    expect((await failure(() => FlagModel.load('   '))).code).toBe('MODEL_NOT_FOUND');
    expect((await failure(() => FlagICLModel.load(''))).code).toBe('INVALID_INPUT');
    expect((await failure(() => FlagAutoModel.fromFinetuned(''))).code).toBe('MODEL_NOT_FOUND');
  });
});

describe('per-call options and text lists are checked', () => {
  it('encode rejects sparse arrays, non-strings, unknown and mistyped options with typed errors', async () => {
    const loaded = await FlagModel.load(model(), { threads: 2 });
    try {
      // eslint-disable-next-line no-sparse-arrays
      const sparse = ['a', , 'b'] as string[];
      for (const [texts, options, message] of [
        [sparse, {}, /hole at index 1/],
        [new Array<string>(3), {}, /hole at index 0/],
        [['a', 5], {}, /item 1 is number/],
        [null, {}, /expected a string or an array of strings, got null/],
        [['a'], { max_length: 8 }, /did you mean "maxLength"/],
        [['a'], { signal: 'stop' }, /option signal must be an AbortSignal/],
        [['a'], { batchSize: -1 }, /option batchSize must be a positive integer/],
        [['a'], null, /options must be an object/],
      ] as const) {
        for (const call of ['encode', 'encodeQueries', 'encodeCorpus'] as const) {
          const error = await failure(() => loaded[call](texts as never, options as never));
          expect(error.code).toBe('INVALID_INPUT');
          expect(error.message).toMatch(message);
        }
      }
      expect(await loaded.encode([])).toEqual([]);
    } finally {
      await loaded.dispose();
    }
  });
});

describe('FlagICLModel per-call options, texts and examples are checked', () => {
  it('encodeQueries / encodeCorpus / encode and setExamples give typed errors', async () => {
    const { path } = await writeMistralFixture('options-tiny-mistral.gguf', { type: GgmlType.F32 });
    const icl = await FlagICLModel.load(path, { threads: 2 });
    try {
      // eslint-disable-next-line no-sparse-arrays
      const sparse = ['a', , 'b'] as string[];
      for (const call of ['encode', 'encodeQueries', 'encodeCorpus'] as const) {
        expect((await failure(() => icl[call](sparse))).message).toMatch(/hole at index 1/);
        expect((await failure(() => icl[call](['a'], { max_length: 8 } as never))).message).toMatch(/did you mean "maxLength"/);
        expect((await failure(() => icl[call](['a'], { signal: {} } as never))).message).toMatch(/AbortSignal/);
      }
      expect(() => icl.setExamples([{ instruct: 'x', query: 1 }] as never)).toThrow(/setExamples\(examples\) must be .*query/);
      expect(() => icl.setExamples('x' as never)).toThrow(BgeGgufError);
      icl.setExamples([{ instruct: 'x', query: 'q', response: 'r' }]);
      icl.setExamples(null);
    } finally {
      await icl.dispose();
    }
  });
});

describe('checkOptions', () => {
  it('suggests camelCase names and near misses, nothing for unrelated names', () => {
    const known = Object.keys(flagModelSchema);
    expect(suggest('pooling_method', known)).toBe('poolingMethod');
    expect(suggest('PASSAGE_MAX_LENGTH', known)).toBe('passageMaxLength');
    expect(suggest('batchsize', known)).toBe('batchSize');
    expect(suggest('trheads', known)).toBe('threads');
    expect(suggest('zzzzzz', known)).toBeNull();
  });

  it('ignores inherited properties and rejects own ones it does not know', () => {
    const options = Object.create({ inherited: 1 }) as object;
    expect(checkOptions(flagModelSchema, options, 'x')).toBe(options);
    expect(() => checkOptions(flagModelSchema, { toString: 1 }, 'x')).toThrow(/unknown option "toString"/);
  });
});
