import { InvalidInputError } from '../errors.js';
import type { Engine } from '../runtime/types.js';
import { defaultModel, lookupModel } from '../models/registry.js';
import { applyInstruction } from '../prompt/instruction.js';
import { tokenizeMany } from '../tokens/tokenizeMany.js';
import { checkMaxLength, tokenizeTruncated } from '../tokens/truncate.js';
import { BaseEmbedder, openEngine } from './BaseEmbedder.js';
import { callTexts, flagModelSchema, textList, type BaseEmbedderOptions, type EncodeCallOptions, type Encoded, asEncoded } from './options.js';
import { checkOptions } from './validate.js';
import { typedTextFailure } from './inputGuard.js';

export interface FlagModelOptions extends BaseEmbedderOptions {
  /** 'cls' (BGE's default: last hidden state of [CLS]) or 'mean' (over real tokens). */
  poolingMethod?: 'cls' | 'mean';
  /** Instruction for passages in encodeCorpus (FlagEmbedding's passage_instruction_for_retrieval). */
  passageInstructionForRetrieval?: string | null;
  passageInstructionFormat?: string;
}

/** FlagEmbedding's FlagModel: encoder (BERT) embedders such as bge-*-v1.5, on a GGUF. */
export class FlagModel extends BaseEmbedder {
  readonly poolingMethod: 'cls' | 'mean';
  readonly queryInstructionForRetrieval: string | null;
  readonly queryInstructionFormat: string;
  readonly passageInstructionForRetrieval: string | null;
  readonly passageInstructionFormat: string;

  /** Loads a GGUF BERT model: a local path, an `hf:org/repo/file.gguf` URI, or nothing for the embedded default. */
  static async load(pathOrUri?: string, options: FlagModelOptions = {}): Promise<FlagModel> {
    options = checkOptions(flagModelSchema, options, 'FlagModel.load');
    // With no model named, the embedded default loads with its own registry settings.
    const defaults = pathOrUri === undefined ? defaultModelSettings() : {};
    const poolingMethod = options.poolingMethod ?? defaults.poolingMethod ?? 'cls';
    const engine = await openEngine(pathOrUri, options);
    try {
      if (engine.info.causal) {
        throw new InvalidInputError(`${engine.info.name} is a decoder (${engine.info.arch}) model; FlagModel embeds encoder (BERT) models — use FlagICLModel or FlagAutoModel`);
      }
      return new FlagModel(engine, { ...options, poolingMethod });
    } catch (error) {
      await engine.dispose();
      throw error;
    }
  }

  protected constructor(engine: Engine, options: FlagModelOptions & { poolingMethod: 'cls' | 'mean' }) {
    super(engine, options);
    this.poolingMethod = options.poolingMethod;
    this.queryInstructionForRetrieval = options.queryInstructionForRetrieval ?? null;
    this.queryInstructionFormat = options.queryInstructionFormat ?? '{}{}';
    this.passageInstructionForRetrieval = options.passageInstructionForRetrieval ?? null;
    this.passageInstructionFormat = options.passageInstructionFormat ?? '{}{}';
  }

  /** Queries: the retrieval instruction is applied through queryInstructionFormat; queryMaxLength. */
  encodeQueries<T extends string | string[]>(queries: T, options: EncodeCallOptions = {}): Promise<Encoded<T>> {
    return this.encodeWith(queries, 'encodeQueries', options, {
      instruction: this.queryInstructionForRetrieval,
      instructionFormat: this.queryInstructionFormat,
      maxLength: this.settings.queryMaxLength,
    });
  }

  /** Passages: no query instruction; passageMaxLength. */
  encodeCorpus<T extends string | string[]>(corpus: T, options: EncodeCallOptions = {}): Promise<Encoded<T>> {
    return this.encodeWith(corpus, 'encodeCorpus', options, {
      instruction: this.passageInstructionForRetrieval,
      instructionFormat: this.passageInstructionFormat,
      maxLength: this.settings.passageMaxLength,
    });
  }

  /** Texts as given (an instruction only if passed in options); passageMaxLength. */
  encode<T extends string | string[]>(texts: T, options: EncodeCallOptions = {}): Promise<Encoded<T>> {
    return this.encodeWith(texts, 'encode', options, { maxLength: this.settings.passageMaxLength });
  }

  protected override get tokenIdsPooling(): 'cls' | 'mean' {
    return this.poolingMethod;
  }

  /** The token ids the model sees for a text ([CLS] … [SEP], truncated to maxLength). */
  tokenize(text: string, maxLength: number = this.settings.passageMaxLength): Int32Array {
    textList(text, 'tokenize');
    return tokenizeTruncated(this.engine, text, checkMaxLength('maxLength', maxLength, this.engine));
  }

  /** `fixed`: what encodeQueries/encodeCorpus impose (their instruction); maxLength there is the default. */
  private async encodeWith<T extends string | string[]>(input: T, where: string, callOptions: EncodeCallOptions, fixed: EncodeCallOptions): Promise<Encoded<T>> {
    const { texts, options: given } = callTexts(input, callOptions, where);
    const options = { ...given, ...fixed, maxLength: given.maxLength ?? fixed.maxLength };
    const maxLength = checkMaxLength(`${where} maxLength`, options.maxLength ?? this.settings.passageMaxLength, this.engine);
    const format = options.instructionFormat ?? '{}{}';
    const sequences = await tokenizeMany(
      texts,
      (text) => typedTextFailure(where, text, () => tokenizeTruncated(this.engine, applyInstruction(text, options.instruction, format), maxLength)),
      128,
      options.signal,
    );
    const vectors = await this.embedTokens(sequences, this.poolingMethod, options.batchSize, options.signal, options.onProgress);
    return asEncoded(input, vectors);
  }
}

function defaultModelSettings(): { poolingMethod?: 'cls' | 'mean' } {
  const pooling = lookupModel(defaultModel().name)?.entry.pooling;
  return pooling === 'cls' || pooling === 'mean' ? { poolingMethod: pooling } : {};
}
