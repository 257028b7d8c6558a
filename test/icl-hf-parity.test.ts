/**
 * FlagICLModel's token ids vs FlagEmbedding's ICLLLMEmbedder run over Hugging Face's tokenizer
 * (test/support/flagIclReference.ts + hfSpmTokenizer.ts: tokenizers.js with a tokenizer.json built
 * from the GGUF vocabulary, Rust decode semantics), for the Llama/Mistral SentencePiece vocabulary
 * plain and extended with bge-en-icl's three added control tokens (<instruct>, <query>, <response>
 * at 32000-32002). The models are tiny synthetic Mistral GGUFs: only their tokenization is used here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagICLModel } from '../src/api/FlagICLModel.js';
import { GgmlType } from '../src/gguf/types.js';
import { referencePassage, referenceQuery, referenceSuffixEosLength, type IclReferenceConfig } from './support/flagIclReference.js';
import { hfSpmTokenizer, readSpmVocabArrays, rustDecode, type HfSpmTokenizer } from './support/hfSpmTokenizer.js';
import { EXAMPLES, TASK } from './support/iclTutorial.js';
import { spmVocabPath, writeMistralFixture } from './support/mistralFixture.js';
import { cosine, mistralEmbedding } from './support/mistralReference.js';
import type { MistralWeights } from './support/synthetic/mistral.js';
import { generatedTexts } from './support/mixedTexts.js';

const ICL_TOKENS = ['<instruct>', '<query>', '<response>'];
const QUERY_FORMAT = '<instruct>{}\n<query>{}';
const EXAMPLES_FORMAT = '<instruct>{}\n<query>{}\n<response>{}';
const SUFFIX = '\n<response>';
const TUTORIAL_QUERIES = ['how much protein should a female eat', 'summit define'];

interface Setup {
  name: string;
  tok: HfSpmTokenizer;
  path: string;
  weights: MistralWeights;
  models: FlagICLModel[];
}
const setups: Record<'plain' | 'extended', Setup> = {} as never;

beforeAll(async () => {
  const base = await readSpmVocabArrays(spmVocabPath());
  for (const name of ['plain', 'extended'] as const) {
    const added = name === 'extended' ? ICL_TOKENS : [];
    const { path, weights } = await writeMistralFixture(`icl-tokens-${name}.gguf`, { type: GgmlType.F32, layers: 1, addedControlTokens: added });
    const vocab = { pieces: [...base.pieces, ...added], scores: [...base.scores, ...added.map(() => 0)], types: [...base.types, ...added.map(() => 3)] };
    setups[name] = { name, tok: hfSpmTokenizer(vocab), path, weights, models: [] };
  }
});
afterAll(async () => {
  for (const s of Object.values(setups)) for (const m of s.models) await m.dispose();
});

async function model(s: Setup, config: IclReferenceConfig): Promise<FlagICLModel> {
  const m = await FlagICLModel.load(s.path, {
    threads: 1,
    queryInstructionForRetrieval: config.instruction,
    queryInstructionFormat: config.queryFormat,
    examplesForTask: config.examples,
    examplesInstructionFormat: config.examplesFormat,
    suffix: config.suffix,
    queryMaxLength: config.maxLength,
  });
  s.models.push(m);
  return m;
}

const config = (over: Partial<IclReferenceConfig> = {}): IclReferenceConfig => ({
  instruction: TASK,
  queryFormat: QUERY_FORMAT,
  examples: null,
  examplesFormat: EXAMPLES_FORMAT,
  suffix: SUFFIX,
  maxLength: 512,
  ...over,
});

function expectQueries(m: FlagICLModel, s: Setup, c: IclReferenceConfig, queries: string[]): void {
  const ours = m.tokenizeQueries(queries).map((ids) => Array.from(ids));
  const theirs = queries.map((q) => referenceQuery(s.tok, q, c));
  const differing = queries.filter((_, i) => JSON.stringify(ours[i]) !== JSON.stringify(theirs[i]));
  expect(differing).toEqual([]);
}

describe("the reference decoder has the Rust tokenizers' ByteFallback semantics", () => {
  it('decodes its unit-test vectors: a valid run to text, an invalid run to one U+FFFD per byte', () => {
    expect(rustDecode(['<0xE5>'])).toBe('\uFFFD');
    expect(rustDecode(['<0xE5>', '<0x8f>'])).toBe('\uFFFD\uFFFD');
    expect(rustDecode(['<0xE5>', '<0x8f>', '<0xab>', 'a'])).toBe('叫a');
    expect(rustDecode(['<0xE5>', '<0x8f>', 'a'])).toBe('\uFFFD\uFFFDa');
    expect(rustDecode(['▁Hey', '▁friend'])).toBe('Hey friend');
    expect(rustDecode(['<instruct>', '▁Given'])).toBe('<instruct> Given');
  });
});

for (const name of ['plain', 'extended'] as const) {
  describe(`${name} Llama/Mistral vocabulary`, () => {
    it(`charges "\\n<response></s>" as ${name === 'extended' ? 4 : 6} tokens, as FlagEmbedding does`, () => {
      expect(referenceSuffixEosLength(setups[name].tok, SUFFIX)).toBe(name === 'extended' ? 4 : 6);
    });

    it("the tutorial's prompts: zero-shot with the instruction, few-shot with and without it", async () => {
      const s = setups[name];
      for (const c of [config(), config({ examples: EXAMPLES }), config({ instruction: null, examples: EXAMPLES })]) {
        expectQueries(await model(s, c), s, c, [...TUTORIAL_QUERIES, 'a', '']);
      }
    });

    it('truncation at, just past and far past the query budget', async () => {
      const s = setups[name];
      const c = config({ maxLength: 40 });
      const m = await model(s, c);
      const words = (n: number) => Array.from({ length: n }, (_, i) => ['world', 'alpha', 'x', 'ünïcödé', '42'][i % 5]).join(' ');
      expectQueries(m, s, c, Array.from({ length: 40 }, (_, n) => words(n)));
      expectQueries(m, s, c, [words(200), words(5000)]);
    });

    it('emoji and CJK cut mid-character (byte-fallback pieces) decode to U+FFFD per byte, as HF does', async () => {
      const s = setups[name];
      const c = config({ instruction: null, maxLength: 16 });
      const m = await model(s, c);
      const queries: string[] = [];
      for (const tail of ['🦙🦙🦙🦙🦙', '𝒳𝒴𝒵𝒲𝒱', '镇镇镇镇镇镇镇', '👍🏽👍🏽👍🏽', 'a🦙b镇c🦙']) {
        for (let k = 0; k < 12; k++) queries.push('ab '.repeat(k) + tail);
      }
      expectQueries(m, s, c, queries);
      // several of these really are cut inside a character
      const replaced = m.tokenizeQueries(queries).filter((ids) => s.tok.decode(Array.from(ids)).includes('\uFFFD'));
      expect(replaced.length).toBeGreaterThan(5);
    });

    it('literal <s>, </s>, <unk> and the ICL tokens inside queries and passages', async () => {
      const s = setups[name];
      const texts = ['a </s> b', '<s>hello</s>', 'x<unk>y', 'ask <query>what</query> now', '<instruct>do it\n<response>', '</s></s>', '<s> <s>  </s>'];
      for (const c of [config(), config({ instruction: null, examples: EXAMPLES })]) expectQueries(await model(s, c), s, c, texts);
      const m = await model(s, config());
      expect(texts.map((t) => Array.from(m.tokenize(t)))).toEqual(texts.map((t) => referencePassage(s.tok, t, 512)));
    });

    it('1,200 generated texts: query ids (cut at two budgets) and passage ids identical', async () => {
      const s = setups[name];
      const texts = generatedTexts(1200, 20240917);
      for (const maxLength of [24, 96]) {
        const c = config({ maxLength, examples: maxLength === 24 ? null : EXAMPLES.slice(0, 1) });
        expectQueries(await model(s, c), s, c, texts);
      }
      const m = await model(s, config());
      const differing = texts.filter((t) => JSON.stringify(Array.from(m.tokenize(t, 64))) !== JSON.stringify(referencePassage(s.tok, t, 64)));
      expect(differing).toEqual([]);
    });

    it("embeds the tutorial's few-shot queries as the float64 reference does on FlagEmbedding's ids: cosine >= 0.99999", async () => {
      const s = setups[name];
      const c = config({ instruction: TASK, examples: EXAMPLES });
      const queries = [...TUTORIAL_QUERIES, 'a 🦙 with <s> inside'];
      const vectors = await (await model(s, c)).encodeQueries(queries);
      const cosines = queries.map((q, i) => cosine(vectors[i], mistralEmbedding(s.weights, referenceQuery(s.tok, q, c))));
      expect(Math.min(...cosines)).toBeGreaterThanOrEqual(0.99999);
    });

    it('a 7 MB query is cut to the same ids as HF gives, quickly and without a stack overflow', async () => {
      const s = setups[name];
      const c = config({ maxLength: 64 });
      const m = await model(s, c);
      const sentence = 'The quick brown fox jumps over the lazy dog; 镇 🦙 naïve café. ';
      const huge = sentence.repeat(Math.ceil(7e6 / sentence.length));
      const [ids] = m.tokenizeQueries([huge]);
      // the reference on a prefix long enough for 64 tokens (the reference BPE is too slow for 7 MB)
      expect(Array.from(ids)).toEqual(referenceQuery(s.tok, sentence.repeat(20), c));
      const [passage] = [m.tokenize(huge, 64)];
      expect(Array.from(passage)).toEqual(referencePassage(s.tok, sentence.repeat(20), 64));
    });
  });
}
