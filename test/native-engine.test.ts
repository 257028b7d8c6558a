/**
 * The native engine (our llama.cpp addon): tokenizer against llama.cpp's own test vectors,
 * vectors against the independent float64 BERT forward pass, and every bad input → a typed error.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgeGgufError } from '../src/errors.js';
import { createNativeEngine, isNativeAvailable, nativeLoadError } from '../src/runtime/native.js';
import { loadCpuAddon, type NativeModel } from '../src/runtime/nativeBinding.js';
import { cpuBuildsKey, preferredCpuVariant, weightTypeOf } from '../src/runtime/cpuLibrary.js';
import { readGguf } from '../src/gguf/reader.js';
import type { Engine } from '../src/runtime/types.js';
import { cosine, referenceEmbeddings } from './support/bertReference.js';
import { bgeVocabPath, fixturePath, fixtureWeights, FIXTURES, repoRoot } from './support/fixtures.js';

const FIXTURE = 'tiny-bert-f32.gguf';
const CLS = 101; // bge-small-en-v1.5's [CLS] / [SEP] ids
const SEP = 102;
const VOCAB_SIZE = 30522;

/** llama.cpp's tokenizer test vectors: cases separated by "\n__ggml_vocab_test__\n"; .out has one line of ids per case. */
function vocabTestCases(gguf: string): Array<{ text: string; ids: number[] }> {
  const raw = readFileSync(`${gguf}.inp`, 'utf8');
  const sep = '\n__ggml_vocab_test__\n';
  const inputs = raw.split(sep);
  if (inputs[inputs.length - 1] === '') inputs.pop();
  const outputs = readFileSync(`${gguf}.out`, 'utf8').split('\n');
  if (outputs[outputs.length - 1] === '') outputs.pop();
  expect(outputs.length).toBe(inputs.length);
  return inputs.map((text, i) => ({
    text,
    ids: outputs[i].trim() === '' ? [] : outputs[i].trim().split(/\s+/).map(Number),
  }));
}

/** What the action throws or rejects with (undefined when it succeeds). */
async function thrownBy(action: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    return error;
  }
  return undefined;
}

async function expectCode(action: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  const error = await thrownBy(action);
  expect(error, `expected a ${code} error`).toBeInstanceOf(BgeGgufError);
  expect((error as BgeGgufError).code).toBe(code);
}

/** The binding throws plain Errors with a `code`; they must never be anything worse. */
async function expectNativeCode(action: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  const error = await thrownBy(action);
  expect(error, `expected a ${code} error`).toBeInstanceOf(Error);
  expect((error as { code?: string }).code).toBe(code);
}

// npm install builds the addon; a missing one must fail here, not skip the suite.
describe('native engine', () => {
  it('the built addon loads', () => {
    expect(isNativeAvailable(), `${nativeLoadError() ?? ''} — run \`npm run build:native\``).toBe(true);
  });

  describe('tokenizer (vocab-only bge GGUF)', () => {
    let vocab: NativeModel;
    beforeAll(async () => {
      vocab = await loadCpuAddon().addon.loadModel(bgeVocabPath(), { vocabOnly: true });
    });
    afterAll(() => vocab?.dispose());

    it("matches llama.cpp's test vectors for every case", () => {
      const cases = vocabTestCases(bgeVocabPath());
      expect(cases.length).toBeGreaterThan(40);
      for (const { text, ids } of cases) {
        expect(Array.from(vocab.tokenize(text, false, false)), JSON.stringify(text)).toEqual(ids);
      }
    });

    it('adds [CLS] … [SEP] with addSpecial, and parses them only with parseSpecial', () => {
      const plain = Array.from(vocab.tokenize('Hello world', false, false));
      expect(Array.from(vocab.tokenize('Hello world', true, false))).toEqual([CLS, ...plain, SEP]);
      expect(Array.from(vocab.tokenize('[SEP]', false, true))).toEqual([SEP]);
      expect(Array.from(vocab.tokenize('[SEP]', false, false))).not.toEqual([SEP]);
    });

    it('detokenizes back to the (lower-cased) text', () => {
      const ids = vocab.tokenize('Hello, world!', false, false);
      expect(vocab.detokenize(ids).trim()).toBe('hello, world!');
    });

    it('a vocab-only model refuses to create a context', async () => {
      await expectNativeCode(() => vocab.createContext({ pooling: 'cls' }), 'INVALID_INPUT');
    });
  });

  describe('engine on the tiny BERT fixture', () => {
    let engine: Engine;
    beforeAll(async () => {
      engine = await createNativeEngine(fixturePath(FIXTURE), { threads: 2, gpu: false, batchTokens: 256, maxSequences: 8 });
    });
    afterAll(async () => engine?.dispose());

    it('reports the model as generated', () => {
      const spec = FIXTURES[FIXTURE];
      expect(engine.kind).toBe('native');
      expect(engine.info).toMatchObject({
        arch: 'bert',
        embeddingDim: spec.hidden,
        trainContextLength: spec.maxPositions,
        ggufPooling: spec.pooling,
        causal: false,
        bosId: CLS,
        eosId: SEP,
        addBos: true,
        addEos: true,
        vocabSize: VOCAB_SIZE,
      });
      expect(engine.limits).toEqual({ batchTokens: 256, maxSequences: 8, parallelDecodes: 2 });
    });

    it('one batch of mixed lengths gives each sequence its reference vector (cls and mean)', async () => {
      const { weights } = await fixtureWeights(FIXTURE);
      const texts = ['a', 'The quick brown fox jumps over the lazy dog.', 'bge embeddings on llama.cpp', 'x '.repeat(60)];
      const seqs = texts.map((t) => engine.tokenize(t, { addSpecial: true }));
      for (const pooling of ['cls', 'mean'] as const) {
        const vectors = await engine.encodeBatch(seqs, pooling);
        expect(vectors).toHaveLength(seqs.length);
        seqs.forEach((ids, i) => {
          expect(vectors[i]).toHaveLength(engine.info.embeddingDim);
          expect(cosine(vectors[i], referenceEmbeddings(weights, ids)[pooling])).toBeGreaterThan(0.99999);
        });
      }
    });

    it('a single sequence longer than batchTokens still fits (up to the training length)', async () => {
      const { weights } = await fixtureWeights(FIXTURE);
      const ids = new Int32Array(FIXTURES[FIXTURE].maxPositions).map((_, i) => (i === 0 ? CLS : 2000 + (i % 500)));
      const [vector] = await engine.encodeBatch([ids], 'cls');
      expect(cosine(vector, referenceEmbeddings(weights, ids).cls)).toBeGreaterThan(0.9999);
    });

    // llama.cpp aborted the process on mean pooling when n_batch was not a multiple of n_seq_max
    it('any batchTokens / maxSequences pair works with mean and cls pooling', async () => {
      const { weights } = await fixtureWeights(FIXTURE);
      const seqs = Array.from({ length: 12 }, (_, i) => engine.tokenize(`text number ${i} ${'with more words '.repeat(i)}`, { addSpecial: true }));
      for (const [batchTokens, maxSequences] of [[300, 256], [100, 8], [33, 7]]) {
        const odd = await createNativeEngine(fixturePath(FIXTURE), { threads: 1, gpu: false, batchTokens, maxSequences });
        try {
          for (const pooling of ['mean', 'cls'] as const) {
            const fits = seqs.filter((s) => s.length <= batchTokens).slice(0, maxSequences);
            const vectors = await odd.encodeBatch(fits, pooling);
            fits.forEach((ids, i) => expect(cosine(vectors[i], referenceEmbeddings(weights, ids)[pooling])).toBeGreaterThan(0.99999));
          }
        } finally {
          await odd.dispose();
        }
      }
    });

    it('concurrent calls are serialized and each gets its own result', async () => {
      const { weights } = await fixtureWeights(FIXTURE);
      const seqs = ['first text', 'second, longer text here', 'third'].map((t) => engine.tokenize(t, { addSpecial: true }));
      const results = await Promise.all(seqs.map((s) => engine.encodeBatch([s], 'mean')));
      results.forEach(([v], i) => expect(cosine(v, referenceEmbeddings(weights, seqs[i]).mean)).toBeGreaterThan(0.99999));
    });

    it('an empty batch returns no vectors', async () => {
      expect(await engine.encodeBatch([], 'cls')).toEqual([]);
    });

    it('rejects every bad input with INVALID_INPUT', async () => {
      const ok = new Int32Array([CLS, 7592, SEP]);
      const bad: Array<[string, () => Promise<unknown>]> = [
        ['negative id', () => engine.encodeBatch([new Int32Array([CLS, -5, SEP])], 'cls')],
        ['id = vocab size', () => engine.encodeBatch([new Int32Array([CLS, VOCAB_SIZE, SEP])], 'cls')],
        ['huge id', () => engine.encodeBatch([new Int32Array([2 ** 31 - 1])], 'cls')],
        ['empty sequence', () => engine.encodeBatch([ok, new Int32Array(0)], 'cls')],
        ['longer than the context', () => engine.encodeBatch([new Int32Array(513).fill(2000)], 'cls')],
        ['sum over the context', () => engine.encodeBatch([new Int32Array(300).fill(2000), new Int32Array(300).fill(2000)], 'cls')],
        ['too many sequences', () => engine.encodeBatch(Array.from({ length: 9 }, () => ok), 'cls')],
        ['300 sequences', () => engine.encodeBatch(Array.from({ length: 300 }, () => ok), 'cls')],
        ['plain array', () => engine.encodeBatch([[CLS, SEP] as unknown as Int32Array], 'cls')],
        ['Float32Array', () => engine.encodeBatch([new Float32Array([CLS, SEP]) as unknown as Int32Array], 'cls')],
        ['Uint32Array', () => engine.encodeBatch([new Uint32Array([CLS, SEP]) as unknown as Int32Array], 'cls')],
        ['null sequence', () => engine.encodeBatch([null as unknown as Int32Array], 'cls')],
        ['not an array', () => engine.encodeBatch(ok as unknown as Int32Array[], 'cls')],
        ['unknown pooling', () => engine.encodeBatch([ok], 'max' as never)],
        ['non-string text', async () => engine.tokenize(42 as unknown as string, { addSpecial: true })],
        ['undefined text', async () => engine.tokenize(undefined as unknown as string, { addSpecial: true })],
        ['detokenize negative', async () => engine.detokenize([-1])],
        ['detokenize out of vocab', async () => engine.detokenize([VOCAB_SIZE])],
        ['detokenize non-integer', async () => engine.detokenize([1.5])],
        ['detokenize NaN', async () => engine.detokenize([Number.NaN])],
      ];
      for (const [name, action] of bad) {
        let error: unknown;
        try {
          await action();
        } catch (e) {
          error = e;
        }
        expect(error, name).toBeInstanceOf(BgeGgufError);
        expect((error as BgeGgufError).code, name).toBe('INVALID_INPUT');
      }
      // the engine still works afterwards
      expect(await engine.encodeBatch([ok], 'cls')).toHaveLength(1);
    });

    it('an already-aborted signal and an abort while queued give CANCELLED', async () => {
      const ids = engine.tokenize('cancel me', { addSpecial: true });
      await expectCode(engine.encodeBatch([ids], 'cls', AbortSignal.abort()), 'CANCELLED');
      const controller = new AbortController();
      // one call per decode lane keeps both busy, so the third waits in a queue when it is aborted
      const busy = Array.from({ length: engine.limits.parallelDecodes }, () => engine.encodeBatch([ids], 'cls'));
      const queued = expectCode(engine.encodeBatch([ids], 'cls', controller.signal), 'CANCELLED');
      controller.abort();
      for (const call of busy) await expect(call).resolves.toHaveLength(1);
      await queued;
    });
  });

  describe('native handles', () => {
    let model: NativeModel;
    beforeAll(async () => {
      model = await loadCpuAddon().addon.loadModel(fixturePath(FIXTURE), {});
    });
    afterAll(() => model?.dispose());

    it('cancel() rejects the running encode with CANCELLED; the context keeps working', async () => {
      const { weights } = await fixtureWeights(FIXTURE);
      const ctx = model.createContext({ pooling: 'cls', nBatch: 512, nSeqMax: 8, threads: 2 });
      const ids = new Int32Array(500).map((_, i) => (i === 0 ? CLS : 3000 + i));
      const running = ctx.encode([ids]);
      ctx.cancel();
      await expectNativeCode(running, 'CANCELLED');
      const again = await ctx.encode([ids]);
      expect(cosine(again, referenceEmbeddings(weights, ids).cls)).toBeGreaterThan(0.9999);
      ctx.dispose();
    });

    it('a second encode on a busy context is refused, not run at once', async () => {
      const ctx = model.createContext({ pooling: 'cls', nBatch: 64, threads: 2 });
      const first = ctx.encode([new Int32Array([CLS, 2000, SEP])]);
      await expectNativeCode(() => ctx.encode([new Int32Array([CLS, SEP])]), 'BUSY');
      await first;
      ctx.dispose();
    });

    it('a per-decode thread count outside 1..the context threads gives INVALID_INPUT', async () => {
      const ctx = model.createContext({ pooling: 'cls', nBatch: 64, threads: 2 });
      const ids = [new Int32Array([CLS, 2000, SEP])];
      for (const bad of [0, 3, 1.5, Number.NaN]) await expectNativeCode(() => ctx.encode(ids, bad), 'INVALID_INPUT');
      await expect(ctx.encode(ids, 1)).resolves.toHaveLength(64);
      ctx.dispose();
    });

    it('bad context options give INVALID_INPUT', async () => {
      await expectNativeCode(() => model.createContext({ pooling: 'max' as never }), 'INVALID_INPUT');
      await expectNativeCode(() => model.createContext({ pooling: 'cls', nSeqMax: 257 }), 'INVALID_INPUT');
      // more sequences than tokens per decode would trip a llama.cpp assert (process abort)
      await expectNativeCode(() => model.createContext({ pooling: 'cls', nBatch: 16, nSeqMax: 32 }), 'INVALID_INPUT');
      await expectNativeCode(() => model.createContext({ pooling: 'cls', nBatch: 0 }), 'INVALID_INPUT');
      await expectNativeCode(() => model.createContext({ pooling: 'cls', threads: 1.5 }), 'INVALID_INPUT');
    });

    it('disposing a context or its model while encoding is safe and gives DISPOSED', async () => {
      const other = await loadCpuAddon().addon.loadModel(fixturePath(FIXTURE), {});
      const ids = new Int32Array(400).fill(2500);
      const a = other.createContext({ pooling: 'cls', nBatch: 512, threads: 2 });
      const b = other.createContext({ pooling: 'mean', nBatch: 512, threads: 2 });
      const runningA = a.encode([ids]);
      a.dispose();
      await expectNativeCode(runningA, 'DISPOSED');
      const runningB = b.encode([ids]);
      other.dispose();
      await expectNativeCode(runningB, 'DISPOSED');
      await expectNativeCode(() => b.encode([ids]), 'DISPOSED');
      await expectNativeCode(() => other.tokenize('x', true, false), 'DISPOSED');
      await expectNativeCode(() => other.createContext({ pooling: 'cls' }), 'DISPOSED');
      b.dispose();
      other.dispose(); // twice is fine
    });
  });

  describe('loading and disposal', () => {
    it('missing file → MODEL_NOT_FOUND; not GGUF, directory or truncated → MODEL_LOAD_FAILED', async () => {
      const opts = { threads: 2, gpu: false } as const;
      await expectCode(createNativeEngine(join(repoRoot, 'no-such-model.gguf'), opts), 'MODEL_NOT_FOUND');
      await expectCode(createNativeEngine(join(repoRoot, 'package.json'), opts), 'MODEL_LOAD_FAILED');
      await expectCode(createNativeEngine(join(repoRoot, 'test'), opts), 'MODEL_LOAD_FAILED');
      const truncated = join(tmpdir(), `bge-gguf-truncated-${process.pid}.gguf`);
      writeFileSync(truncated, readFileSync(fixturePath(FIXTURE)).subarray(0, 4096));
      await expectCode(createNativeEngine(truncated, opts), 'MODEL_LOAD_FAILED');
      await expectCode(createNativeEngine('', opts), 'INVALID_INPUT');
    });

    it('the CPU build for a weight type is the one measured faster on this machine, measured once and cached', async () => {
      const cacheFile = join(mkdtempSync(join(tmpdir(), 'bge-gguf-cpu-builds-')), 'cpu-builds.json');
      const measured: string[] = [];
      const fake = (speeds: { cpu: number; source: number }) => async (path: string) => (measured.push(path), speeds);
      const f32 = fixturePath('tiny-bert-f32.gguf');
      const f16 = fixturePath('tiny-bert-f16.gguf');
      const choose = (path: string, measure: (path: string) => Promise<{ cpu: number; source: number }>) =>
        preferredCpuVariant(path, undefined, { measure, cacheFile, sourceBuilt: true });
      const warn = console.warn;
      const notices: string[] = [];
      console.warn = (message: string) => void notices.push(message);
      try {
        expect(await choose(f32, fake({ cpu: 100, source: 150 }))).toBe('source');
      } finally {
        console.warn = warn;
      }
      expect(notices).toEqual([expect.stringMatching(/timing the prebuilt and the from-source llama\.cpp builds .* F32 weights/)]);
      expect(await choose(f32, fake({ cpu: 900, source: 1 }))).toBe('source'); // cached: not measured again
      expect(await choose(f16, fake({ cpu: 300, source: 200 }))).toBe('cpu'); // another weight type: measured
      expect(measured).toEqual([f32, f16]);
      const cache = JSON.parse(readFileSync(cacheFile, 'utf8'));
      expect(Object.keys(cache)).toEqual([cpuBuildsKey()]);
      expect(cpuBuildsKey()).toContain(cpus()[0].model);
      expect(Object.keys(cache[cpuBuildsKey()]).sort()).toEqual(['F16', 'F32']);
      // without the opt-in from-source build there is nothing to choose
      expect(await preferredCpuVariant(f32, undefined, { measure: fake({ cpu: 1, source: 2 }), cacheFile, sourceBuilt: false })).toBe('cpu');
      expect(weightTypeOf((await readGguf(fixturePath('tiny-bert-q8_0.gguf'))).tensors)).toBe('Q8_0');
    });

    it('bad engine options → INVALID_INPUT; an unavailable GPU → NATIVE_UNAVAILABLE', async () => {
      const path = fixturePath(FIXTURE);
      await expectCode(createNativeEngine(path, { threads: 0 }), 'INVALID_INPUT');
      await expectCode(createNativeEngine(path, { batchTokens: -1 }), 'INVALID_INPUT');
      await expectCode(createNativeEngine(path, { maxSequences: 257 }), 'INVALID_INPUT');
      await expectCode(createNativeEngine(path, { threads: 2, parallelDecodes: 0 }), 'INVALID_INPUT');
      await expectCode(createNativeEngine(path, { threads: 2, parallelDecodes: 3 }), 'INVALID_INPUT');
      await expectCode(createNativeEngine(path, { gpu: 'tpu' as never }), 'INVALID_INPUT');
      if (process.platform !== 'darwin') await expectCode(createNativeEngine(path, { gpu: 'metal' }), 'NATIVE_UNAVAILABLE');
    });

    it('a disposed engine throws DISPOSED everywhere; an encode in flight rejects with DISPOSED', async () => {
      const engine = await createNativeEngine(fixturePath(FIXTURE), { threads: 2, gpu: false });
      const ids = engine.tokenize('in flight', { addSpecial: true });
      await engine.encodeBatch([ids], 'cls'); // the context exists
      const inFlight = engine.encodeBatch([ids], 'cls');
      await engine.dispose();
      await expectCode(inFlight, 'DISPOSED');
      await expectCode(() => engine.tokenize('x', { addSpecial: true }), 'DISPOSED');
      await expectCode(() => engine.detokenize([CLS]), 'DISPOSED');
      await expectCode(engine.encodeBatch([ids], 'cls'), 'DISPOSED');
      await engine.dispose(); // twice is fine
    });
  });
});
