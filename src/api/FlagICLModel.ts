import { BgeGgufError, InvalidInputError } from '../errors.js';
import {
  applyIclInstruction,
  assemblePassage,
  assembleQuery,
  buildExamplesPrefix,
  DEFAULT_EXAMPLES_INSTRUCTION_FORMAT,
  DEFAULT_ICL_QUERY_INSTRUCTION_FORMAT,
  DEFAULT_ICL_SUFFIX,
  queryBudget,
  unescapeNewlines,
  type IclExample,
  type IclTokenizer,
} from '../prompt/icl.js';
import { formatFields } from '../prompt/instruction.js';
import type { Engine } from '../runtime/types.js';
import { BaseEmbedder, openEngine } from './BaseEmbedder.js';
import { positiveInt, textList, type BaseEmbedderOptions, type EncodeCallOptions, type Encoded, asEncoded } from './options.js';

export type { IclExample } from '../prompt/icl.js';

export interface FlagICLModelOptions extends BaseEmbedderOptions {
  /** Few-shot examples put in front of every query; null (default) for none. */
  examplesForTask?: IclExample[] | null;
  /** Python-style format with three `{}` fields: instruct, query, response. */
  examplesInstructionFormat?: string;
  /** Appended to every query (default "\n<response>"). */
  suffix?: string;
  /** Instruction for passages in encodeCorpus (FlagEmbedding's passage_instruction_for_retrieval). */
  passageInstructionForRetrieval?: string | null;
  passageInstructionFormat?: string;
}

/**
 * FlagEmbedding's FlagICLModel (ICLLLMEmbedder) for bge-en-icl on a GGUF: a causal decoder whose
 * embedding is the final hidden state at the </s> ending each input; queries carry optional
 * few-shot examples and an instruction.
 */
export class FlagICLModel extends BaseEmbedder {
  readonly queryInstructionForRetrieval: string | null;
  readonly queryInstructionFormat: string;
  readonly examplesInstructionFormat: string;
  readonly suffix: string;
  readonly passageInstructionForRetrieval: string | null;
  readonly passageInstructionFormat: string;
  /** The examples given at load time (setExamples(null) returns to them). */
  readonly examplesForTask: IclExample[] | null;
  private prefixText: string;
  private readonly tokenizer: IclTokenizer;

  /** Loads a decoder GGUF (bge-en-icl): a local path or an `hf:org/repo/file.gguf` URI. */
  static async load(pathOrUri: string, options: FlagICLModelOptions = {}): Promise<FlagICLModel> {
    if (typeof pathOrUri !== 'string' || pathOrUri === '') {
      throw new InvalidInputError('FlagICLModel.load needs the path or hf: URI of a bge-en-icl GGUF (there is no embedded default ICL model)');
    }
    const engine = await openEngine(pathOrUri, options);
    try {
      return new FlagICLModel(engine, options);
    } catch (error) {
      await engine.dispose();
      throw error;
    }
  }

  protected constructor(engine: Engine, options: FlagICLModelOptions) {
    super(engine, options);
    const { info } = engine;
    if (!info.causal) {
      throw new BgeGgufError('UNSUPPORTED_MODEL', `${info.name} is an encoder (${info.arch}) model; FlagICLModel embeds decoder models such as bge-en-icl — use FlagModel`);
    }
    if (info.bosId === null || info.eosId === null) {
      throw new BgeGgufError('UNSUPPORTED_MODEL', `${info.name} has no ${info.bosId === null ? 'BOS (<s>)' : 'EOS (</s>)'} token in its vocabulary; FlagICLModel needs both`);
    }
    this.tokenizer = engineTokenizer(() => this.engine, info.bosId, info.eosId);
    this.queryInstructionForRetrieval = stringOrNull('queryInstructionForRetrieval', options.queryInstructionForRetrieval);
    this.queryInstructionFormat = unescapeNewlines(stringOption('queryInstructionFormat', options.queryInstructionFormat, DEFAULT_ICL_QUERY_INSTRUCTION_FORMAT));
    this.examplesInstructionFormat = unescapeNewlines(stringOption('examplesInstructionFormat', options.examplesInstructionFormat, DEFAULT_EXAMPLES_INSTRUCTION_FORMAT));
    this.suffix = stringOption('suffix', options.suffix, DEFAULT_ICL_SUFFIX);
    this.passageInstructionForRetrieval = stringOrNull('passageInstructionForRetrieval', options.passageInstructionForRetrieval);
    this.passageInstructionFormat = stringOption('passageInstructionFormat', options.passageInstructionFormat, '{}{}');
    this.examplesForTask = options.examplesForTask ?? null;
    this.prefixText = buildExamplesPrefix(this.examplesForTask, this.examplesInstructionFormat, this.queryInstructionForRetrieval);
    queryBudget(this.tokenizer, this.prefixText, this.suffix, this.settings.queryMaxLength); // fail at load if queryMaxLength is too small
  }

  /** The few-shot text every query starts with ("" without examples). */
  get prefix(): string {
    return this.prefixText;
  }

  /**
   * FlagEmbedding's set_examples: new examples for the following queries; null or nothing goes back
   * to the examplesForTask given at load (none if none were given).
   */
  setExamples(examples?: IclExample[] | null): void {
    this.prefixText = buildExamplesPrefix(examples ?? this.examplesForTask, this.examplesInstructionFormat, this.queryInstructionForRetrieval);
  }

  /** Queries without any few-shot examples from now on (zero-shot). */
  clearExamples(): void {
    this.prefixText = '';
  }

  /** Queries: instruction (if set) → truncate → prefix + query + suffix → <s> … </s>; queryMaxLength. */
  async encodeQueries<T extends string | string[]>(queries: T, options: EncodeCallOptions = {}): Promise<Encoded<T>> {
    const sequences = this.tokenizeQueries(textList(queries, 'encodeQueries'), options.maxLength);
    const vectors = await this.embedTokens(sequences, 'last', options.batchSize, options.signal, options.onProgress);
    return asEncoded(queries, vectors);
  }

  /** Passages: no examples, no suffix; passageMaxLength. */
  encodeCorpus<T extends string | string[]>(corpus: T, options: EncodeCallOptions = {}): Promise<Encoded<T>> {
    return this.encodePassages(corpus, 'encodeCorpus', options, this.passageInstructionForRetrieval, this.passageInstructionFormat);
  }

  /** Texts as given (an instruction only if passed in options), like passages. */
  encode<T extends string | string[]>(texts: T, options: EncodeCallOptions = {}): Promise<Encoded<T>> {
    return this.encodePassages(texts, 'encode', options, options.instruction ?? null, options.instructionFormat ?? '{}{}');
  }

  /** The token ids the model sees for each query (what encodeQueries embeds). */
  tokenizeQueries(queries: string[], maxLength?: number): Int32Array[] {
    const length = positiveInt('maxLength', maxLength, this.settings.queryMaxLength);
    const budget = queryBudget(this.tokenizer, this.prefixText, this.suffix, length);
    return textList(queries, 'tokenizeQueries').map((query) =>
      this.checkFits(
        assembleQuery(this.tokenizer, applyIclInstruction(query, this.queryInstructionForRetrieval, this.queryInstructionFormat), this.prefixText, this.suffix, budget),
        length,
      ),
    );
  }

  /** With examples a query is longer than queryMaxLength: it must still fit the model's context. */
  private checkFits(ids: Int32Array, maxLength: number): Int32Array {
    const limit = this.engine.info.trainContextLength;
    if (ids.length > limit) {
      throw new InvalidInputError(
        `a query with its few-shot examples is ${ids.length} tokens (examples prefix + up to ${maxLength} query tokens), more than the model's context of ${limit}; use fewer or shorter examples or a smaller queryMaxLength`,
      );
    }
    return ids;
  }

  /** The token ids the model sees for a passage (<s> … </s>, truncated to maxLength). */
  tokenize(text: string, maxLength?: number): Int32Array {
    textList(text, 'tokenize');
    return assemblePassage(this.tokenizer, text, positiveInt('maxLength', maxLength, this.settings.passageMaxLength));
  }

  private async encodePassages<T extends string | string[]>(input: T, where: string, options: EncodeCallOptions, instruction: string | null, format: string): Promise<Encoded<T>> {
    const texts = textList(input, where);
    const maxLength = positiveInt(`${where} maxLength`, options.maxLength, this.settings.passageMaxLength);
    const sequences = texts.map((text) =>
      assemblePassage(this.tokenizer, instruction === null ? text : formatFields(unescapeNewlines(format), instruction, text), maxLength),
    );
    const vectors = await this.embedTokens(sequences, 'last', options.batchSize, options.signal, options.onProgress);
    return asEncoded(input, vectors);
  }
}

/**
 * The engine's tokenizer as the ICL assembly needs it: content tokens only (the assembly adds
 * <s>/</s> itself, whatever the GGUF's add_bos/add_eos flags say). Text the caller passes is
 * tokenized with parseSpecial=false, so a literal "</s>" in a query stays text.
 */
function engineTokenizer(engine: () => Engine, bosId: number, eosId: number): IclTokenizer {
  return {
    tokenize: (text, parseSpecial) => engine().tokenize(text, { addSpecial: false, parseSpecial }),
    detokenize: (ids) => engine().detokenize(ids),
    bosId,
    eosId,
  };
}

function stringOption(name: string, value: unknown, fallback: string): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw new InvalidInputError(`${name} must be a string, got ${typeof value}`);
  return value;
}

function stringOrNull(name: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new InvalidInputError(`${name} must be a string or null, got ${typeof value}`);
  return value;
}
