/**
 * bge-en-icl prompt assembly against Mistral-7B's real SentencePiece vocabulary (bge-en-icl's
 * tokenizer), through mistral-tokenizer-js. Expected sequences are hand-written pieces, worked out
 * from FlagEmbedding's ICLLLMEmbedder:
 *   budget = maxLength - len(tok("<s>")) - len(tok("\n<response></s>"))   (add_special_tokens=False)
 *   query  = decode(tok(query)[:budget]);  ids = <s> + tok(prefix + query + suffix) + </s>
 */
import { describe, expect, it } from 'vitest';
// @ts-ignore plain JS package without type declarations
import mistral from 'mistral-tokenizer-js';
import { applyIclInstruction, assemblePassage, assembleQuery, buildExamplesPrefix, queryBudget, type IclTokenizer } from '../src/prompt/icl.js';
import { EXAMPLES, TASK } from './support/iclTutorial.js';

interface MistralTokenizerJs {
  encode(text: string, addBos: boolean, addPrecedingSpace: boolean): number[] | undefined;
  decode(ids: number[], addBos: boolean, addPrecedingSpace: boolean): string;
  vocabByString: Map<string, number>;
}
const m = mistral as MistralTokenizerJs;

/**
 * Hugging Face's Mistral tokenizer (legacy SentencePiece): special tokens are split out first, and
 * every remaining text segment gets the "▁" dummy prefix (as llama.cpp's SPM tokenizer also does
 * after a special token). Decode keeps special tokens and strips one leading space, if any.
 */
const tok: IclTokenizer = {
  tokenize(text) {
    const segment = (s: string): number[] => m.encode(s, false, true) ?? [];
    return text.split(/(<\/?s>)/).flatMap((part) => (part === '<s>' ? [1] : part === '</s>' ? [2] : segment(part)));
  },
  detokenize(ids) {
    const text = m.decode(Array.from(ids), false, false);
    return text.startsWith(' ') ? text.slice(1) : text;
  },
  bosId: 1,
  eosId: 2,
};

function ids(...pieces: Array<string | string[]>): number[] {
  return pieces.flat().map((p) => {
    const id = p === '<s>' ? 1 : p === '</s>' ? 2 : m.vocabByString.get(p);
    if (id === undefined) throw new Error(`piece ${JSON.stringify(p)} is not in Mistral's vocabulary`);
    return id;
  });
}
const repeat = (piece: string, n: number): string[] => Array.from({ length: n }, () => piece);
const NL = '<0x0A>';
const SUFFIX = '\n<response>';
const SUFFIX_MID_TEXT = [NL, '<', 'response', '>'];

const PREFIX = EXAMPLES.map((e) => `<instruct>${e.instruct}\n<query>${e.query}\n<response>${e.response}\n\n`).join('');

function query(text: string, prefix: string, maxLength: number): number[] {
  return Array.from(assembleQuery(tok, text, prefix, SUFFIX, queryBudget(tok, prefix, SUFFIX, maxLength)));
}

describe('the adapter is Mistral-7B SentencePiece', () => {
  it('tokenizes the seed sentence to bge-en-icl ids, content only, and decodes it back', () => {
    const content = Array.from(tok.tokenize('I love machine learning and nlp'));
    expect(content).toEqual([315, 2016, 5599, 5168, 304, 307, 12312]);
    expect(content).toEqual(ids('▁I', '▁love', '▁machine', '▁learning', '▁and', '▁n', 'lp'));
    expect(tok.detokenize(content)).toBe('I love machine learning and nlp');
    for (const s of [' leading space', 'line\n\nbreaks', 'ü 镇 🦙']) expect(tok.detokenize(tok.tokenize(s))).toBe(s);
  });

  it('counts "<s>" and "</s>" as one special token each when parsing specials', () => {
    expect(Array.from(tok.tokenize('<s>'))).toEqual([1]);
    expect(Array.from(tok.tokenize('\n<response></s>'))).toEqual(ids('▁', NL, '<', 'response', '>', '</s>'));
  });
});

describe('passages', () => {
  it('assemblePassage gives <s> + the seed ids + </s>', () => {
    expect(Array.from(assemblePassage(tok, 'I love machine learning and nlp', 512))).toEqual([1, 315, 2016, 5599, 5168, 304, 307, 12312, 2]);
  });
});

describe("queries with the tutorial's two examples", () => {
  const prefix = buildExamplesPrefix(EXAMPLES);

  it('builds the prefix as the formatted examples, each followed by a blank line', () => {
    expect(prefix).toBe(PREFIX);
  });

  it('is <s> prefix query suffix </s>; the prefix ends with "\\n\\n", the suffix comes right before </s>', () => {
    const out = query('how much protein should a female eat', prefix, 512);
    expect(out[0]).toBe(1);
    expect(out.at(-1)).toBe(2);
    expect(out.slice(1, 5)).toEqual(ids('▁<', 'in', 'struct', '>'));
    expect(out.slice(-6)).toEqual(ids('▁eat', SUFFIX_MID_TEXT, '</s>'));
    // <0x0A> byte pieces never merge, so the whole string's tokens are the segments' tokens joined;
    // after the newline the first query word has no ▁
    const prefixIds = Array.from(tok.tokenize(PREFIX));
    expect(prefixIds.slice(-3)).toEqual(ids('.', NL, NL));
    const queryIds = ids('how', '▁much', '▁protein', '▁should', '▁a', '▁female', '▁eat');
    expect(out).toEqual([1, ...prefixIds, ...queryIds, ...ids(SUFFIX_MID_TEXT), 2]);
  });

  it('an instructed query starts with "<" (no ▁) after the prefix', () => {
    const text = applyIclInstruction('summit define', TASK);
    const out = query(text, prefix, 512);
    const prefixLength = tok.tokenize(PREFIX).length;
    expect(out.slice(1 + prefixLength, 1 + prefixLength + 4)).toEqual(ids('<', 'in', 'struct', '>'));
    // "<query>summit": no ▁ before "summit", which then is not the single piece ▁summit
    expect(out.slice(-8)).toEqual(ids('sum', 'mit', '▁define', SUFFIX_MID_TEXT, '</s>'));
  });
});

describe('query budget at maxLength 512', () => {
  // tok("<s>") = [<s>] (1); tok("\n<response></s>") = ▁ <0x0A> < response > </s> (6): 512 - 1 - 6
  const BUDGET = 505;
  const worlds = (n: number): string => repeat('world', n).join(' '); // one ▁world piece each

  it('is 505 tokens', () => {
    expect(queryBudget(tok, '', SUFFIX, 512).contentMax).toBe(BUDGET);
    expect(queryBudget(tok, PREFIX, SUFFIX, 512).contentMax).toBe(BUDGET);
  });

  it('keeps a query of exactly 505 tokens whole', () => {
    expect(tok.tokenize(worlds(BUDGET)).length).toBe(BUDGET);
    expect(query(worlds(BUDGET), '', 512)).toEqual(ids('<s>', repeat('▁world', BUDGET), SUFFIX_MID_TEXT, '</s>'));
  });

  it('cuts longer queries to 505 tokens, still ending in </s>', () => {
    for (const n of [BUDGET + 1, 600, 2000]) {
      const out = query(worlds(n), '', 512);
      expect(out).toEqual(ids('<s>', repeat('▁world', BUDGET), SUFFIX_MID_TEXT, '</s>'));
      expect(out.length).toBe(1 + BUDGET + 4 + 1);
    }
  });

  it('cuts the query, not the examples, when a prefix is in front', () => {
    const prefixIds = Array.from(tok.tokenize(PREFIX));
    const out = query(worlds(600), PREFIX, 512);
    expect(out).toEqual([1, ...prefixIds, ...ids('world', repeat('▁world', BUDGET - 1), SUFFIX_MID_TEXT), 2]);
  });
});
