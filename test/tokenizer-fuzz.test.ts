/**
 * The project's WordPiece (src/tokens/wordpiece.ts, over the GGUF's vocabulary) against Hugging
 * Face's tokenizer (@huggingface/tokenizers with the real tokenizer.json) on 10,000 generated
 * multilingual strings per vocabulary: ids must be identical for every one.
 *
 * The reference is the JavaScript port of `tokenizers`, given the text as the Rust crate that
 * BertTokenizerFast runs (and that we follow) sees it (test/support/rustTokenizerView.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { describe, expect, it } from 'vitest';
import { readGguf } from '../src/gguf/reader.js';
import { WordPieceTokenizer } from '../src/tokens/wordpiece.js';
import { bertTokenizerJsonFromGguf } from './support/bertTokenizerJson.js';
import { bgeVocabPath, repoRoot } from './support/fixtures.js';
// @ts-ignore plain .mjs module without type declarations
import { fuzzTexts } from '../scripts/parity/multilingual-fuzz.mjs';
import { rustView } from './support/rustTokenizerView.js';

const FUZZ_COUNT = 10_000;
const MINILM_DIR = join(repoRoot, 'models', 'all-minilm-l6-v2');

function compare(ours: WordPieceTokenizer, hf: Tokenizer, texts: readonly string[]): { identical: number; diffs: string[] } {
  let identical = 0;
  const diffs: string[] = [];
  for (const text of texts) {
    const got = ours.encode(text);
    const want = hf.encode(rustView(text), { add_special_tokens: false }).ids;
    if (got.length === want.length && got.every((id, i) => id === want[i])) identical++;
    else if (diffs.length < 5) diffs.push(`${JSON.stringify(text)}\n  ours ${got.join(' ')}\n  hf   ${want.join(' ')}`);
  }
  return { identical, diffs };
}

const vocabularies: Array<[string, () => Promise<{ ours: WordPieceTokenizer; hf: Tokenizer }>]> = [
  ['all-MiniLM-L6-v2 (its own tokenizer.json, the GGUF our converter made)', async () => ({
    ours: WordPieceTokenizer.fromGguf(await readGguf(join(repoRoot, 'models', 'all-minilm-l6-v2-q8_0.gguf'))),
    hf: new Tokenizer(
      JSON.parse(readFileSync(join(MINILM_DIR, 'tokenizer.json'), 'utf8')),
      JSON.parse(readFileSync(join(MINILM_DIR, 'tokenizer_config.json'), 'utf8')),
    ),
  })],
  ["bge-small-en-v1.5 (llama.cpp's ggml-vocab-bert-bge.gguf)", async () => ({
    ours: WordPieceTokenizer.fromGguf(await readGguf(bgeVocabPath())),
    hf: new Tokenizer(await bertTokenizerJsonFromGguf(bgeVocabPath()), { do_lower_case: true }),
  })],
];

describe('WordPiece fuzz against Hugging Face', () => {
  for (const [name, load] of vocabularies) {
    it(`${name}: ${FUZZ_COUNT} generated multilingual strings, 100% identical ids`, async () => {
      const { ours, hf } = await load();
      const texts = fuzzTexts(20261205, FUZZ_COUNT);
      const { identical, diffs } = compare(ours, hf, texts);
      console.log(`${name}: ${identical}/${texts.length} identical`);
      expect(diffs).toEqual([]);
      expect(identical).toBe(FUZZ_COUNT);
    }, 120_000);
  }

  it('stops at maxTokens without changing the first ids, on texts of every shape', async () => {
    const ours = WordPieceTokenizer.fromGguf(await readGguf(bgeVocabPath()));
    for (const text of fuzzTexts(7, 300)) {
      const long = `${text} ${text} ${text}`.repeat(20);
      const full = ours.encode(long);
      for (const max of [1, 7, 100, 510]) expect(ours.encode(long, max)).toEqual(full.slice(0, max));
    }
  });

  it('handles a 6M-character word and a 10 MB text without recursion or spread limits', async () => {
    const ours = WordPieceTokenizer.fromGguf(await readGguf(bgeVocabPath()));
    const unk = ours.encode('[UNK]')[0];
    expect(ours.encode('a'.repeat(6_000_000))).toEqual([unk]);
    expect(ours.encode('é'.repeat(6_000_000))).toEqual([unk]);
    const big = 'The quick brown fox, naïve café 東京 हिन्दी. '.repeat(250_000);
    expect(big.length).toBeGreaterThan(10_000_000);
    expect(ours.encode(big, 510)).toHaveLength(510);
    expect(ours.encode('.'.repeat(3_000_000))).toHaveLength(3_000_000);
  }, 120_000);
});
