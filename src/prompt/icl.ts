/**
 * bge-en-icl prompt assembly, as FlagEmbedding's ICLLLMEmbedder builds its inputs:
 * few-shot prefix + (truncated, round-tripped) query + suffix, wrapped in <s> … </s>.
 * Pure functions over a small tokenizer interface so they can be checked token by token.
 */
import { InvalidInputError } from '../errors.js';
import { formatFields } from './instruction.js';

export interface IclExample {
  /** Falls back to the model's queryInstructionForRetrieval when absent. */
  instruct?: string | null;
  query?: string | null;
  response?: string | null;
}

export const DEFAULT_EXAMPLES_INSTRUCTION_FORMAT = '<instruct>{}\n<query>{}\n<response>{}';
export const DEFAULT_ICL_QUERY_INSTRUCTION_FORMAT = '<instruct>{}\n<query>{}';
export const DEFAULT_ICL_SUFFIX = '\n<response>';

/**
 * What the assembly needs from a tokenizer, behaving as the model's Hugging Face tokenizer does.
 * `tokenize` returns content tokens only (no BOS/EOS) and matches every special/added token written
 * in the text ("<s>", "</s>", bge-en-icl's "<instruct>", "<query>", "<response>") as one token;
 * `budget`, when given, says only the first `budget` tokens will be used (a long text may be cut
 * first). `detokenize` is HF's batch_decode with default options: special tokens kept as text.
 */
export interface IclTokenizer {
  tokenize(text: string, budget?: number): ArrayLike<number>;
  detokenize(ids: ArrayLike<number>): string;
  readonly bosId: number;
  readonly eosId: number;
}

/** FlagEmbedding accepts "\n" written as backslash-n in formats (handy from a CLI). */
export function unescapeNewlines(format: string): string {
  return format.split('\\n').join('\n');
}

/**
 * The few-shot prefix: every example through the examples format, joined by a blank line, plus a
 * blank line. `null` means no examples (empty prefix); an empty list still yields "\n\n", as in
 * FlagEmbedding.
 */
export function buildExamplesPrefix(
  examples: readonly IclExample[] | null,
  format: string = DEFAULT_EXAMPLES_INSTRUCTION_FORMAT,
  fallbackInstruction: string | null = null,
): string {
  if (examples === null) return '';
  if (!Array.isArray(examples)) throw new InvalidInputError('examplesForTask must be an array of {instruct, query, response} objects or null');
  const parts = examples.map((example, i) => {
    if (typeof example !== 'object' || example === null) {
      throw new InvalidInputError(`examplesForTask[${i}] must be an object with instruct, query and response strings`);
    }
    const instruct = example.instruct ?? fallbackInstruction;
    if (instruct === null || instruct === undefined) {
      throw new InvalidInputError(`examplesForTask[${i}] has no instruct and no queryInstructionForRetrieval is set; give the example an instruct`);
    }
    const fields = [instruct, example.query ?? '', example.response ?? ''];
    fields.forEach((f, k) => {
      if (typeof f !== 'string') throw new InvalidInputError(`examplesForTask[${i}].${['instruct', 'query', 'response'][k]} must be a string`);
    });
    return formatFields(unescapeNewlines(format), ...fields);
  });
  return parts.join('\n\n') + '\n\n';
}

/** get_detailed_instruct: the instruction goes through the format only when one is set. */
export function applyIclInstruction(query: string, instruction: string | null, format: string = DEFAULT_ICL_QUERY_INSTRUCTION_FORMAT): string {
  return instruction === null ? query : formatFields(unescapeNewlines(format), instruction, query);
}

/** The token budgets of encode_queries_single_device for one prefix/suffix/max length. */
export interface QueryBudget {
  /** Most tokens kept of the (instruction-formatted) query before the prefix and suffix go on. */
  contentMax: number;
  /** Hard cap on the final sequence, <s> and </s> included. */
  sequenceCap: number;
}

export function queryBudget(tokenizer: IclTokenizer, prefix: string, suffix: string, maxLength: number): QueryBudget {
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new InvalidInputError(`queryMaxLength must be a positive integer, got ${String(maxLength)}`);
  // FlagEmbedding counts the literal strings "<s>" and suffix + "</s>" with the tokenizer, so the
  // suffix's leading SentencePiece space ("▁") is charged too, although mid-text it never appears.
  const bosLength = tokenizer.tokenize('<s>').length;
  const suffixEosLength = tokenizer.tokenize(`${suffix}</s>`).length;
  const contentMax = maxLength - bosLength - suffixEosLength;
  if (contentMax < 1) {
    throw new InvalidInputError(
      `queryMaxLength ${maxLength} leaves no room for the query: <s> and the suffix with </s> take ${bosLength + suffixEosLength} tokens; use at least ${bosLength + suffixEosLength + 1}`,
    );
  }
  const prefixLength = tokenizer.tokenize(prefix).length;
  const suffixLength = tokenizer.tokenize(suffix).length;
  const sequenceCap = Math.floor((prefixLength + suffixLength + maxLength + 8) / 8) * 8 + 8;
  return { contentMax, sequenceCap };
}

/**
 * <s> + ids + </s>, truncated like a Hugging Face tokenizer call with truncation=True: the content
 * is cut so the whole sequence fits `cap`, and </s> always stays the final token.
 */
export function wrapTruncated(ids: ArrayLike<number>, cap: number, bosId: number, eosId: number): Int32Array {
  if (!Number.isInteger(cap) || cap < 2) throw new InvalidInputError(`a max length must be an integer of at least 2 (<s> and </s>), got ${String(cap)}`);
  const kept = Math.min(ids.length, cap - 2);
  const out = new Int32Array(kept + 2);
  out[0] = bosId;
  for (let i = 0; i < kept; i++) out[i + 1] = ids[i];
  out[kept + 1] = eosId;
  return out;
}

/**
 * One query's tokens: the query (already instruction-formatted) is tokenized on its own, cut to
 * budget.contentMax tokens and decoded back to text; then prefix + text + suffix is tokenized as a
 * whole string (so pieces at the joins are what the tokenizer makes of the full text) and wrapped.
 */
export function assembleQuery(tokenizer: IclTokenizer, query: string, prefix: string, suffix: string, budget: QueryBudget): Int32Array {
  const content = tokenizer.tokenize(query, budget.contentMax);
  const kept = content.length > budget.contentMax ? Array.prototype.slice.call(content, 0, budget.contentMax) : content;
  const text = tokenizer.detokenize(kept);
  const ids = tokenizer.tokenize(prefix + text + suffix, budget.sequenceCap);
  return wrapTruncated(ids, budget.sequenceCap, tokenizer.bosId, tokenizer.eosId);
}

/** A passage (encode / encodeCorpus): no prefix or suffix, <s> … </s> within maxLength. */
export function assemblePassage(tokenizer: IclTokenizer, passage: string, maxLength: number): Int32Array {
  if (!Number.isInteger(maxLength) || maxLength < 3) throw new InvalidInputError(`passageMaxLength must be an integer of at least 3 (<s>, one token, </s>), got ${String(maxLength)}`);
  return wrapTruncated(tokenizer.tokenize(passage, maxLength), maxLength, tokenizer.bosId, tokenizer.eosId);
}
