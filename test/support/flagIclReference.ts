/**
 * FlagEmbedding's ICLLLMEmbedder input building (inference/embedder/decoder_only/icl.py,
 * encode_queries_single_device and encode_single_device) written over an independent HF-style
 * tokenizer (hfSpmTokenizer.ts), for token-for-token comparison with bge-gguf's FlagICLModel.
 */
import type { HfSpmTokenizer } from './hfSpmTokenizer.js';

export interface IclReferenceConfig {
  instruction: string | null;
  queryFormat: string; // "<instruct>{}\n<query>{}"
  examples: Array<{ instruct: string; query: string; response: string }> | null;
  examplesFormat: string; // "<instruct>{}\n<query>{}\n<response>{}"
  suffix: string; // "\n<response>"
  maxLength: number;
}

const format = (f: string, ...values: string[]) => {
  let i = 0;
  return f.replace(/\{\}/g, () => values[i++]);
};

export function referencePrefix(c: IclReferenceConfig): string {
  if (c.examples === null) return '';
  return c.examples.map((e) => format(c.examplesFormat, e.instruct, e.query, e.response)).join('\n\n') + '\n\n';
}

/** The suffix-with-</s> length FlagEmbedding subtracts from the query budget. */
export function referenceSuffixEosLength(tok: HfSpmTokenizer, suffix: string): number {
  return tok.encode(`${suffix}</s>`).length;
}

/** input_ids of one query, as the tokenizer call with truncation=True, add_special_tokens=True (<s> … </s>) makes them. */
export function referenceQuery(tok: HfSpmTokenizer, query: string, c: IclReferenceConfig): number[] {
  const text = c.instruction === null ? query : format(c.queryFormat, c.instruction, query);
  const prefix = referencePrefix(c);
  const prefixIds = tok.encode(prefix);
  const suffixIds = tok.encode(c.suffix);
  const len1 = tok.encode('<s>').length;
  const len2 = referenceSuffixEosLength(tok, c.suffix);
  const newMaxLength = Math.floor((prefixIds.length + suffixIds.length + c.maxLength + 8) / 8) * 8 + 8;
  const cut = tok.encode(text).slice(0, c.maxLength - len1 - len2);
  const decoded = tok.decode(cut);
  return withSpecials(tok, tok.encode(prefix + decoded + c.suffix), newMaxLength);
}

/** A passage: tokenizer(text, truncation=True, max_length) with <s> and </s> added. */
export function referencePassage(tok: HfSpmTokenizer, passage: string, maxLength: number): number[] {
  return withSpecials(tok, tok.encode(passage), maxLength);
}

function withSpecials(tok: HfSpmTokenizer, content: number[], maxLength: number): number[] {
  return [tok.id('<s>'), ...content.slice(0, maxLength - 2), tok.id('</s>')];
}
