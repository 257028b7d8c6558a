/**
 * FlagModel.tokenize vs llama.cpp's tokenizer test vectors for bge-small-en-v1.5's vocabulary
 * (models/ggml-vocab-bert-bge.gguf.inp/.out, produced by Hugging Face's tokenizer) and the
 * ids of the original FlagEmbedding examples. The fixture model carries that vocabulary. Every
 * vector is reproduced; were llama.cpp's file ever to disagree with HF, HF (the tokenizer.json
 * reference below) would be the one to follow.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '@huggingface/tokenizers';
import { FlagModel } from '../src/index.js';
import { bertTokenizerJsonFromGguf } from './support/bertTokenizerJson.js';
import { bgeVocabPath, fixturePath, sharedTexts } from './support/fixtures.js';
import { rustView } from './support/rustTokenizerView.js';

const CLS_ID = 101;
const SEP_ID = 102;
const CASE_SEPARATOR = '\n__ggml_vocab_test__\n';

/** Splits the .inp/.out pair the way llama.cpp's tests/test-tokenizer-0.cpp does. */
function loadVectors(vocabPath: string): Array<{ text: string; ids: number[] }> {
  const raw = readFileSync(`${vocabPath}.inp`, 'utf8');
  const texts = raw.split(CASE_SEPARATOR);
  if (texts[texts.length - 1] === '') texts.pop(); // the file ends with a separator
  const lines = readFileSync(`${vocabPath}.out`, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length !== texts.length) throw new Error(`${texts.length} inputs but ${lines.length} outputs`);
  return texts.map((text, i) => ({ text, ids: lines[i].trim() ? lines[i].trim().split(' ').map(Number) : [] }));
}

const TRICKY_TEXTS = [
  'Café naïve résumé — Ångström façade',
  '北京大学 and 東京 mixed with English',
  'emoji 😀👍🏽 and symbols ©®™ ±½',
  `a${'b'.repeat(99)} word of exactly one hundred characters`,
  'tabs\tand\nnew\r\nlines   and   spaces',
  "don't can't won't it's 'quoted' \"double\"",
  'URL https://example.com/a?b=c&d=e#f and e-mail me@x.org',
  '3.14159 1,000,000 2024-06-01 12:30:45 $5.99 50%',
  'ÀÉÎÕÜ ñ ç ß œ æ ø',
  'Привет мир, γειά σου κόσμε, مرحبا بالعالم',
];


/** Hugging Face's BERT tokenizer (tokenizers.js) over the GGUF's vocabulary. */
async function huggingFaceBertTokenizer(vocabPath: string): Promise<Tokenizer> {
  return new Tokenizer(await bertTokenizerJsonFromGguf(vocabPath), { do_lower_case: true });
}

describe('bge WordPiece tokenization', () => {
  let model: FlagModel;
  const vectors = loadVectors(bgeVocabPath());

  beforeAll(async () => {
    model = await FlagModel.load(fixturePath('tiny-bert-f32.gguf'), { threads: 1 });
  });
  afterAll(async () => {
    await model?.dispose();
  });

  it('reads every test case', () => {
    expect(vectors.length).toBe(46);
    expect(vectors.find((v) => v.text === 'Hello world')?.ids).toEqual([7592, 2088]);
  });

  it('reproduces every llama.cpp test vector, wrapped in [CLS] … [SEP]', () => {
    const mismatches: string[] = [];
    for (const { text, ids } of vectors) {
      const got = Array.from(model.tokenize(text));
      const want = [CLS_ID, ...ids, SEP_ID];
      if (JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`${JSON.stringify(text)}: got ${got} want ${want}`);
    }
    expect(mismatches).toEqual([]);
  });

  /** The HF ids for a text, wrapped and cut the way FlagEmbedding's tokenizer call does. */
  const hfIds = (hf: Tokenizer, text: string, maxLength = 512): number[] =>
    [CLS_ID, ...hf.encode(rustView(text), { add_special_tokens: false }).ids.slice(0, maxLength - 2), SEP_ID];

  const mismatching = (hf: Tokenizer, texts: string[]): string[] =>
    texts.filter((t) => JSON.stringify(Array.from(model.tokenize(t))) !== JSON.stringify(hfIds(hf, t))).map((t) => t.slice(0, 80));

  it("matches Hugging Face's WordPiece on every shared FlagEmbedding text", async () => {
    const hf = await huggingFaceBertTokenizer(bgeVocabPath());
    // the reference itself must reproduce llama.cpp's vectors (which come from the HF tokenizer)
    for (const { text, ids } of vectors) expect(hf.encode(text, { add_special_tokens: false }).ids).toEqual(ids);
    const texts = [...sharedTexts(), ...TRICKY_TEXTS];
    expect(texts.length).toBeGreaterThan(300);
    const mismatches = mismatching(hf, texts);
    console.log(`${texts.length} texts, ${mismatches.length} tokenized differently from Hugging Face`);
    expect(mismatches).toEqual([]);
  });

  // Where llama.cpp's own WPM differs from HF (FlagModel does not use it for BERT GGUFs): Hangul
  // decomposition, words over 100 characters, spacing marks, special tokens written in the text.
  it('matches Hugging Face on Hangul', async () => {
    const hf = await huggingFaceBertTokenizer(bgeVocabPath());
    expect(mismatching(hf, ['Seventeen (Hangul: 세븐틴 ) is a band', '한국어 텍스트'])).toEqual([]);
  });

  it('matches Hugging Face on words longer than 100 characters', async () => {
    const hf = await huggingFaceBertTokenizer(bgeVocabPath());
    expect(mismatching(hf, [`see ${'x'.repeat(101)} here`, `a${'b'.repeat(120)}, c`])).toEqual([]);
  });

  it('matches Hugging Face on spacing marks and special tokens written in the text', async () => {
    const hf = await huggingFaceBertTokenizer(bgeVocabPath());
    expect(mismatching(hf, ['हिन्दी किताबें', 'ஒன்று', 'a [SEP] b [MASK][CLS]', '[sep] is not special'])).toEqual([]);
    expect(Array.from(model.tokenize('a [SEP] b'))).toEqual([CLS_ID, 1037, SEP_ID, 1038, SEP_ID]);
  });

  it('gives the ids of the FlagEmbedding examples', () => {
    expect(Array.from(model.tokenize('embedding'))).toEqual([101, 7861, 8270, 4667, 102]);
    expect(Array.from(model.tokenize('I love machine learning and nlp'))).toEqual([101, 1045, 2293, 3698, 4083, 1998, 17953, 2361, 102]);
  });

  it('cuts long text to passageMaxLength keeping [CLS] and [SEP]', () => {
    const text = vectors.map((v) => v.text).join(' ').repeat(8);
    const full = model.tokenize(text);
    expect(full.length).toBe(512);
    const short = model.tokenize(text, 16);
    expect(short.length).toBe(16);
    expect(short[0]).toBe(CLS_ID);
    expect(short[15]).toBe(SEP_ID);
    expect(Array.from(short.subarray(0, 15))).toEqual(Array.from(full.subarray(0, 15)));
  });
});
