import { InvalidInputError } from '../errors.js';
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
} from '../prompt/icl.js';
import type { Engine } from '../runtime/types.js';
import { DecoderEmbedder, openDecoder, stringOption, type DecoderEmbedderOptions, type DecoderVocab } from './DecoderEmbedder.js';
import { callTexts, flagICLModelSchema, iclExamplesCheck, positiveInt, textList, type EncodeCallOptions, type Encoded, asEncoded } from './options.js';
import { checkOptions, checkValue } from './validate.js';
import { typedTextFailure } from './inputGuard.js';

export type { IclExample } from '../prompt/icl.js';

export interface FlagICLModelOptions extends DecoderEmbedderOptions {
  /** Few-shot examples put in front of every query; null (default) for none. */
  examplesForTask?: IclExample[] | null;
  /** Python-style format with three `{}` fields: instruct, query, response. */
  examplesInstructionFormat?: string;
  /** Appended to every query (default "\n<response>"). */
  suffix?: string;
}

/**
 * FlagEmbedding's FlagICLModel (ICLLLMEmbedder) for bge-en-icl on a GGUF: a causal decoder whose
 * embedding is the final hidden state at the </s> ending each input; queries carry optional
 * few-shot examples and an instruction.
 */
export class FlagICLModel extends DecoderEmbedder {
  readonly examplesInstructionFormat: string;
  readonly suffix: string;
  /** The examples given at load time (setExamples(null) returns to them). */
  readonly examplesForTask: IclExample[] | null;
  private prefixText: string;

  /** Loads a decoder GGUF (bge-en-icl): a local path or an `hf:org/repo/file.gguf` URI. */
  static async load(pathOrUri: string, options: FlagICLModelOptions = {}): Promise<FlagICLModel> {
    options = checkOptions(flagICLModelSchema, options, 'FlagICLModel.load');
    const { engine, vocab } = await openDecoder(pathOrUri, options, 'FlagICLModel');
    try {
      return new FlagICLModel(engine, vocab, options);
    } catch (error) {
      await engine.dispose();
      throw error;
    }
  }

  protected constructor(engine: Engine, vocab: DecoderVocab, options: FlagICLModelOptions) {
    super(engine, vocab, options, DEFAULT_ICL_QUERY_INSTRUCTION_FORMAT, 'FlagICLModel');
    this.examplesInstructionFormat = unescapeNewlines(stringOption('examplesInstructionFormat', options.examplesInstructionFormat, DEFAULT_EXAMPLES_INSTRUCTION_FORMAT));
    this.suffix = stringOption('suffix', options.suffix, DEFAULT_ICL_SUFFIX);
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
    if (examples !== undefined) checkValue(iclExamplesCheck, examples, 'setExamples(examples)');
    this.prefixText = buildExamplesPrefix(examples ?? this.examplesForTask, this.examplesInstructionFormat, this.queryInstructionForRetrieval);
  }

  /** Queries without any few-shot examples from now on (zero-shot). */
  clearExamples(): void {
    this.prefixText = '';
  }

  /** Queries: instruction (if set) → truncate → prefix + query + suffix → <s> … </s>; queryMaxLength. */
  async encodeQueries<T extends string | string[]>(queries: T, callOptions: EncodeCallOptions = {}): Promise<Encoded<T>> {
    const { texts, options } = callTexts(queries, callOptions, 'encodeQueries');
    const sequences = this.tokenizeQueries(texts, options.maxLength);
    const vectors = await this.embedTokens(sequences, 'last', options.batchSize, options.signal, options.onProgress);
    return asEncoded(queries, vectors);
  }

  /** The token ids the model sees for each query (what encodeQueries embeds). */
  tokenizeQueries(queries: string[], maxLength?: number): Int32Array[] {
    const length = positiveInt('maxLength', maxLength, this.settings.queryMaxLength);
    const budget = queryBudget(this.tokenizer, this.prefixText, this.suffix, length);
    return textList(queries, 'tokenizeQueries').map((query) =>
      typedTextFailure('encodeQueries', query, () =>
        this.checkFits(
          assembleQuery(this.tokenizer, applyIclInstruction(query, this.queryInstructionForRetrieval, this.queryInstructionFormat), this.prefixText, this.suffix, budget),
          length,
        ),
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

  /** Passages (encode / encodeCorpus): always <s> … </s> (bge-en-icl's tokenizer adds both), no examples or suffix. */
  protected wrap(text: string, maxLength: number): Int32Array {
    return assemblePassage(this.tokenizer, text, maxLength);
  }
}
