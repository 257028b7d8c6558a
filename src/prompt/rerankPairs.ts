import { InvalidInputError } from '../errors.js';
import { formatFields } from './instruction.js';

/** A (query, passage) pair as FlagReranker takes it. */
export type RerankPair = readonly [string, string];

/** Special tokens around a pair: `<s> q </s></s> p </s>` for XLM-RoBERTa, `[CLS] q [SEP] p [SEP]` for BERT. */
export interface PairTemplate {
  prefix: readonly number[];
  middle: readonly number[];
  suffix: readonly number[];
}

export function robertaPairTemplate(bos: number, eos: number): PairTemplate {
  return { prefix: [bos], middle: [eos, eos], suffix: [eos] };
}

export function bertPairTemplate(cls: number, sep: number): PairTemplate {
  return { prefix: [cls], middle: [sep], suffix: [sep] };
}

/** One pair or a list of pairs, checked; `single` says whether one pair was given (FlagEmbedding's isinstance test). */
export function pairList(input: unknown): { pairs: RerankPair[]; single: boolean } {
  const isPair = (p: unknown): p is RerankPair => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string';
  if (!Array.isArray(input)) throw new InvalidInputError('computeScore: expected a [query, passage] pair or an array of pairs');
  if (input.length === 2 && typeof input[0] === 'string') {
    if (!isPair(input)) throw new InvalidInputError('computeScore: a pair must be two strings, [query, passage]');
    return { pairs: [input], single: true };
  }
  input.forEach((p, i) => {
    if (!isPair(p)) throw new InvalidInputError(`computeScore: item ${i} is not a [query, passage] pair of two strings`);
  });
  return { pairs: input as RerankPair[], single: false };
}

export interface PairInstructions {
  queryInstruction?: string | null;
  queryInstructionFormat?: string;
  passageInstruction?: string | null;
  passageInstructionFormat?: string;
}

/** FlagEmbedding's get_detailed_inputs: an instruction (even an empty one) is formatted in; none leaves the text. */
export function applyPairInstructions(pair: RerankPair, o: PairInstructions): RerankPair {
  const apply = (text: string, instruction: string | null | undefined, format = '{}{}') =>
    instruction === null || instruction === undefined ? text : formatFields(format.replaceAll('\\n', '\n'), instruction, text);
  return [apply(pair[0], o.queryInstruction, o.queryInstructionFormat), apply(pair[1], o.passageInstruction, o.passageInstructionFormat)];
}

/**
 * FlagReranker's input ids for one pair, as compute_score_single_gpu builds them: the query and the
 * passage were tokenized without special tokens; the query is cut to queryMaxLength, the passage to
 * maxLength; then HF prepare_for_model(q, p, truncation='only_second', max_length=maxLength) joins
 * them: when the whole is too long, the passage loses its last tokens, but only if it has more
 * tokens than must go (otherwise HF logs an error and truncates nothing, and neither do we).
 */
export function buildPairIds(
  query: ArrayLike<number>,
  passage: ArrayLike<number>,
  template: PairTemplate,
  maxLength: number,
  queryMaxLength: number,
): Int32Array {
  const q = Array.from(query).slice(0, queryMaxLength);
  let p = Array.from(passage).slice(0, maxLength);
  const specials = template.prefix.length + template.middle.length + template.suffix.length;
  const excess = q.length + p.length + specials - maxLength;
  if (excess > 0 && p.length > excess) p = p.slice(0, p.length - excess);
  return Int32Array.from([...template.prefix, ...q, ...template.middle, ...p, ...template.suffix]);
}
