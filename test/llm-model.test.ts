/**
 * FlagLLMModel on tiny synthetic qwen2 (gte-Qwen2-shaped: Q/K/V biases, no BOS, <|endoftext|> appended)
 * and gemma2 (bge-multilingual-gemma2-shaped: soft-capped attention, extra norms, scaled embeddings,
 * GELU-tanh, head size != hidden/heads, <bos> … <eos>) GGUFs with the bundle's Qwen2 and Gemma
 * vocabularies, against float64 references of HF's Qwen2Model / Gemma2Model (test/support/decoderReference.ts).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagAutoModel } from '../src/api/FlagAutoModel.js';
import { FlagLLMModel } from '../src/api/FlagLLMModel.js';
// @ts-ignore plain .mjs script without type declarations
import { llamaSourceDir } from '../scripts/llama-source.mjs';
import { lookupModel } from '../src/models/registry.js';
import { cosineSimilarity } from '../src/vectors/similarity.js';
import { decoderEmbedding } from './support/decoderReference.js';
import { hfQwen2Tokenizer } from './support/hfQwen2Tokenizer.js';
import { generatedTexts } from './support/mixedTexts.js';
import { fixtureDir } from './support/fixtures.js';
import { writeSyntheticDecoder, type DecoderArch, type DecoderWeights, type SyntheticDecoderOptions } from './support/synthetic/decoders.js';

const INSTRUCTION = 'Given a web search query, retrieve relevant passages that answer the query';
const QUERIES = ['how much protein should a female eat', 'summit define', '中文检索怎么做', 'naïve café 🦙'];
const PASSAGES = [
  "As a general guideline, the CDC's average requirement of protein for women ages 19 to 70 is 46 grams per day.",
  'Definition of summit for English Language Learners: the highest point of a mountain.',
  '北京是中国的首都。',
  'x',
];

const vocab = (file: string) => join(llamaSourceDir() as string, 'models', file);
const SHAPES: Record<DecoderArch, Omit<SyntheticDecoderOptions, 'vocabGguf'> & { vocab: string }> = {
  qwen2: { arch: 'qwen2', vocab: 'ggml-vocab-qwen2.gguf', layers: 2, hidden: 32, heads: 4, kvHeads: 2, headDim: 8, ffn: 64, seed: 7, addBos: false, addEos: true, eosId: 151643 },
  gemma2: { arch: 'gemma2', vocab: 'ggml-vocab-gemma-4.gguf', layers: 2, hidden: 32, heads: 4, kvHeads: 2, headDim: 16, ffn: 64, seed: 11, addBos: true, addEos: true, attnSoftcap: 5 },
};

const loaded: Record<string, { weights: DecoderWeights; path: string; model: FlagLLMModel }> = {};

beforeAll(async () => {
  mkdirSync(fixtureDir, { recursive: true });
  for (const arch of ['qwen2', 'gemma2'] as const) {
    const { vocab: file, ...shape } = SHAPES[arch];
    const path = join(fixtureDir, `llm-${arch}-f32.gguf`);
    const weights = await writeSyntheticDecoder(path, { ...shape, vocabGguf: vocab(file) });
    const model = await FlagLLMModel.load(path, { queryInstructionForRetrieval: INSTRUCTION, threads: 2, batchSize: 8 });
    loaded[arch] = { weights, path, model };
  }
});
afterAll(async () => {
  for (const { model } of Object.values(loaded)) await model.dispose();
});

const minCosine = (weights: DecoderWeights, vectors: Float32Array[], sequences: Int32Array[]) =>
  Math.min(...vectors.map((v, i) => cosineSimilarity(v, Float32Array.from(decoderEmbedding(weights, sequences[i])))));

for (const arch of ['qwen2', 'gemma2'] as const) {
  describe(`${arch} synthetic GGUF vs float64 reference`, () => {
    it('queries carry "Instruct: {}\\nQuery: {}" and the special tokens the GGUF asks for', () => {
      const { model } = loaded[arch];
      const [ids] = model.tokenizeQueries(['summit define']);
      const plain = model.tokenize(`Instruct: ${INSTRUCTION}\nQuery: summit define`, 512);
      expect(Array.from(ids)).toEqual(Array.from(plain));
      const [bare] = model.tokenizeQueries(['a']);
      if (arch === 'gemma2') expect(bare[0]).toBe(2); // <bos>
      expect(bare.at(-1)).toBe(arch === 'gemma2' ? 1 : 151643); // <eos> / <|endoftext|>
    });

    it('encodeQueries and encodeCorpus, batched: cosine >= 0.99999', async () => {
      const { model, weights } = loaded[arch];
      const q = await model.encodeQueries(QUERIES);
      expect(minCosine(weights, q, model.tokenizeQueries(QUERIES))).toBeGreaterThanOrEqual(0.99999);
      const p = await model.encodeCorpus(PASSAGES);
      expect(minCosine(weights, p, PASSAGES.map((t) => model.tokenize(t)))).toBeGreaterThanOrEqual(0.99999);
    });

    it('a passage cut at maxLength keeps the final special token; cosine >= 0.99999', async () => {
      const { model, weights } = loaded[arch];
      const long = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
      const ids = model.tokenize(long, 48);
      expect(ids.length).toBe(48);
      expect(ids.at(-1)).toBe(arch === 'gemma2' ? 1 : 151643);
      const [v] = await model.encode([long], { maxLength: 48 });
      expect(minCosine(weights, [v], [ids])).toBeGreaterThanOrEqual(0.99999);
    });
  });
}

describe('Qwen2 tokenization vs Hugging Face', () => {
  it("applies the tokenizer's NFC: decomposed and composed text give the same ids", () => {
    const { model } = loaded.qwen2;
    expect(Array.from(model.tokenize('cafe\u0301 n\u0303'))).toEqual(Array.from(model.tokenize('café ñ')));
  });

  it('1,200 generated texts (decomposed accents, special tokens written out): ids identical to tokenizers.js', async () => {
    const hf = await hfQwen2Tokenizer(vocab(SHAPES.qwen2.vocab));
    const { model } = loaded.qwen2;
    const texts = [...generatedTexts(1200, 99, ['<|endoftext|>', '<|im_start|>', '<|im_end|>', "'s", "'LL", 'e\u0301', 'A\u030a', '\u1100\u1161'])];
    const differing = texts.filter((t) => JSON.stringify(Array.from(model.tokenize(t, 4096)).slice(0, -1)) !== JSON.stringify(hf.encode(t)));
    expect(differing).toEqual([]);
  });
});

describe('registry', () => {
  it("FlagAutoModel loads FlagEmbedding's FlagLLMModel names with their query formats", async () => {
    const model = await FlagAutoModel.fromFinetuned('Alibaba-NLP/gte-Qwen2-1.5B-instruct', { modelPath: loaded.qwen2.path, threads: 1 });
    try {
      expect(model).toBeInstanceOf(FlagLLMModel);
      expect((model as FlagLLMModel).queryInstructionFormat).toBe('Instruct: {}\nQuery: {}');
    } finally {
      await model.dispose();
    }
    for (const [name, format] of [
      ['intfloat/e5-mistral-7b-instruct', 'Instruct: {}\nQuery: {}'],
      ['BAAI/bge-multilingual-gemma2', '<instruct>{}\n<query>{}'],
      ['Qwen/Qwen3-Embedding-0.6B', 'Instruct: {}\nQuery:{}'],
      ['Linq-AI-Research/Linq-Embed-Mistral', 'Instruct: {}\nQuery: {}'],
      ['Salesforce/SFR-Embedding-2_R', 'Instruct: {}\nQuery: {}'],
      ['BAAI/bge-code-v1', '<instruct>{}\n<query>{}'],
      ['BAAI/bge-reasoner-embed-qwen3-8b-0923', 'Instruct: {}\nQuery: {}'],
    ]) {
      const entry = lookupModel(name)?.entry;
      expect(entry?.class, name).toBe('FlagLLMModel');
      expect(entry?.queryInstructionFormat, name).toBe(format);
    }
  });
});
