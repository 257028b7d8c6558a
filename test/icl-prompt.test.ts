/**
 * bge-en-icl prompt assembly at token level, with the real Llama SentencePiece vocabulary.
 * Every expected sequence is written by hand as SentencePiece pieces, worked out from
 * FlagEmbedding's encode_queries_single_device:
 *   budget  = maxLength - len(tok("<s>")) - len(tok(suffix + "</s>"))  (= maxLength - 1 - 6 here:
 *             "\n<response></s>" is ▁ <0x0A> < response > </s>; the ▁ is charged although mid-text it never appears)
 *   query   = decode(tok(instructed query)[:budget])
 *   ids     = <s> + tok(prefix + query + suffix) + </s>, capped at (P + S + maxLength + 8) // 8 * 8 + 8
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';
import { readGguf } from '../src/gguf/reader.js';
import {
  applyIclInstruction,
  assemblePassage,
  assembleQuery,
  buildExamplesPrefix,
  queryBudget,
  wrapTruncated,
  type IclTokenizer,
} from '../src/prompt/icl.js';
import { spmTokenizer, spmVocabPath } from './support/mistralFixture.js';

const SUFFIX = '\n<response>';
const NL = '<0x0A>';
const SUFFIX_PIECES = [NL, '<', 'response', '>']; // mid-text: no leading ▁

let tok: IclTokenizer & { dispose(): Promise<void> };
let pieceIds: Map<string, number>;

/** Hand-written pieces → ids, looked up in the vocabulary's token list. */
function ids(...pieces: Array<string | string[]>): number[] {
  return pieces.flat().map((p) => {
    const id = pieceIds.get(p);
    if (id === undefined) throw new Error(`piece ${JSON.stringify(p)} is not in the vocabulary`);
    return id;
  });
}
const repeat = (piece: string, n: number): string[] => Array.from({ length: n }, () => piece);
const words = (n: number): string => repeat('hello', n).join(' ');

function query(text: string, prefix: string, maxLength: number): number[] {
  return Array.from(assembleQuery(tok, text, prefix, SUFFIX, queryBudget(tok, prefix, SUFFIX, maxLength)));
}

beforeAll(async () => {
  tok = await spmTokenizer();
  const tokens = (await readGguf(spmVocabPath())).metadata.get('tokenizer.ggml.tokens')!.value as string[];
  pieceIds = new Map(tokens.map((t, i) => [t, i]));
});
afterAll(async () => {
  await tok?.dispose();
});

describe('token budget', () => {
  it('charges <s> and the suffix with </s> (1 + 6 tokens) against queryMaxLength', () => {
    expect(queryBudget(tok, '', SUFFIX, 512)).toEqual({ contentMax: 505, sequenceCap: Math.floor((0 + 5 + 512 + 8) / 8) * 8 + 8 });
    expect(queryBudget(tok, '', SUFFIX, 32).contentMax).toBe(25);
  });

  it('sizes the cap from the prefix and suffix token counts', () => {
    const prefix = '<instruct>A\n<query>B\n<response>C\n\n'; // ▁< inst ruct > A \n < query > B \n < response > C \n \n = 17
    // suffix alone: ▁ <0x0A> < response > = 5
    expect(queryBudget(tok, prefix, SUFFIX, 32).sequenceCap).toBe(Math.floor((17 + 5 + 32 + 8) / 8) * 8 + 8);
  });

  it('refuses a queryMaxLength that leaves no room for the query', () => {
    expect(() => queryBudget(tok, '', SUFFIX, 7)).toThrow(InvalidInputError);
    expect(queryBudget(tok, '', SUFFIX, 8).contentMax).toBe(1);
  });
});

describe('queries without examples', () => {
  it('wraps a short query: <s> query suffix </s>', () => {
    expect(query('hello world', '', 512)).toEqual(ids('<s>', '▁hello', '▁world', SUFFIX_PIECES, '</s>'));
  });

  it('keeps a query that is exactly at the budget whole', () => {
    expect(query(words(25), '', 32)).toEqual(ids('<s>', repeat('▁hello', 25), SUFFIX_PIECES, '</s>'));
  });

  it('cuts a query past the budget to 25 tokens at maxLength 32; the result is 31 tokens and ends in </s>', () => {
    for (const n of [26, 40, 400]) {
      const out = query(words(n), '', 32);
      expect(out).toEqual(ids('<s>', repeat('▁hello', 25), SUFFIX_PIECES, '</s>'));
      expect(out.length).toBe(31);
    }
  });

  it('keeps a leading space through the decode round trip', () => {
    expect(query(' hello', '', 512)).toEqual(ids('<s>', '▁', '▁hello', SUFFIX_PIECES, '</s>'));
  });

  it('formats the instruction, which counts against the budget', () => {
    const text = applyIclInstruction('hello world', 'Find', '<instruct>{}\n<query>{}');
    expect(text).toBe('<instruct>Find\n<query>hello world');
    const head = ['▁<', 'inst', 'ruct', '>', 'Find', NL, '<', 'query', '>'];
    expect(query(text, '', 512)).toEqual(ids('<s>', head, 'hello', '▁world', SUFFIX_PIECES, '</s>'));
    // budget 16 - 7 = 9 tokens: exactly the instruction part survives, the query words are cut
    expect(query(text, '', 16)).toEqual(ids('<s>', head, SUFFIX_PIECES, '</s>'));
  });

  it('leaves the query alone when no instruction is set', () => {
    expect(applyIclInstruction('hello', null)).toBe('hello');
  });
});

describe('queries with examples', () => {
  const examples = [
    { instruct: 'A', query: 'B', response: 'C' },
    { instruct: 'A', query: 'D', response: 'E' },
  ];
  const prefix = '<instruct>A\n<query>B\n<response>C\n\n<instruct>A\n<query>D\n<response>E\n\n';
  const prefixPieces = [
    ['▁<', 'inst', 'ruct', '>', 'A', NL, '<', 'query', '>', 'B', NL, '<', 'response', '>', 'C', NL, NL],
    ['<', 'inst', 'ruct', '>', 'A', NL, '<', 'query', '>', 'D', NL, '<', 'response', '>', 'E', NL, NL],
  ].flat();

  it('joins formatted examples with blank lines and ends with one', () => {
    expect(buildExamplesPrefix(examples)).toBe(prefix);
  });

  it('tokenizes prefix + query + suffix as one string: the first query word loses its ▁ after the newline', () => {
    expect(query('hello world', prefix, 512)).toEqual(ids('<s>', prefixPieces, 'hello', '▁world', SUFFIX_PIECES, '</s>'));
  });

  it('cuts the query itself to the budget; the examples come on top of queryMaxLength', () => {
    const out = query(words(40), prefix, 32);
    expect(out).toEqual(ids('<s>', prefixPieces, 'hello', repeat('▁hello', 24), SUFFIX_PIECES, '</s>'));
    expect(out.length).toBe(1 + 34 + 25 + 4 + 1);
    expect(out.length).toBeLessThanOrEqual(queryBudget(tok, prefix, SUFFIX, 32).sequenceCap);
  });

  it('uses the query instruction for examples without instruct, and refuses when there is none', () => {
    expect(buildExamplesPrefix([{ query: 'q', response: 'r' }], undefined, 'I')).toBe('<instruct>I\n<query>q\n<response>r\n\n');
    expect(() => buildExamplesPrefix([{ query: 'q', response: 'r' }])).toThrow(InvalidInputError);
  });

  it('gives an empty prefix for null and a blank line for an empty list (as FlagEmbedding)', () => {
    expect(buildExamplesPrefix(null)).toBe('');
    expect(buildExamplesPrefix([])).toBe('\n\n');
  });

  it('fills {} fields in order with a custom format, backslash-n written out included', () => {
    expect(buildExamplesPrefix([{ instruct: 'i', query: 'q', response: 'r' }], 'Q: {}\\nA: {} ({})')).toBe('Q: i\nA: q (r)\n\n');
  });
});

describe('the final cap', () => {
  it('keeps <s> first and </s> last when cutting', () => {
    expect(Array.from(wrapTruncated([5, 6, 7, 8, 9], 4, 1, 2))).toEqual([1, 5, 6, 2]);
    expect(Array.from(wrapTruncated([5, 6], 4, 1, 2))).toEqual([1, 5, 6, 2]);
  });

  it('applies the cap when the round trip makes the query longer than planned', () => {
    // Toy tokenizer: one token per character, whose decode doubles every character.
    const toy: IclTokenizer = {
      tokenize: (text) => text.replace(/<\/?s>/g, '\u0001').split('').map((c) => c.charCodeAt(0)),
      detokenize: (list) => Array.from(list, (c) => String.fromCharCode(c).repeat(2)).join(''),
      bosId: 1,
      eosId: 2,
    };
    const budget = queryBudget(toy, '', 'S', 64); // contentMax 64 - 1 - 2 = 61, cap (0 + 1 + 64 + 8) // 8 * 8 + 8 = 80
    expect(budget).toEqual({ contentMax: 61, sequenceCap: 80 });
    const out = Array.from(assembleQuery(toy, 'x'.repeat(100), '', 'S', budget));
    expect(out.length).toBe(80);
    expect(out[0]).toBe(1);
    expect(out[79]).toBe(2);
    expect(out.slice(1, 79).every((c) => c === 'x'.charCodeAt(0))).toBe(true);
  });
});

describe('passages', () => {
  it('wraps in <s> … </s> with no prefix or suffix', () => {
    expect(Array.from(assemblePassage(tok, 'hello world', 512))).toEqual(ids('<s>', '▁hello', '▁world', '</s>'));
  });

  it('cuts to maxLength with </s> kept last', () => {
    expect(Array.from(assemblePassage(tok, words(40), 16))).toEqual(ids('<s>', repeat('▁hello', 14), '</s>'));
  });

  it('refuses a maxLength below 3', () => {
    expect(() => assemblePassage(tok, 'hello', 2)).toThrow(InvalidInputError);
  });
});
