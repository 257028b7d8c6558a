import { InvalidInputError } from '../errors.js';
import { formatFields } from '../prompt/instruction.js';
import type { Engine } from '../runtime/types.js';
import { specialTokens } from '../tokens/truncate.js';
import { DecoderEmbedder, openDecoder, type DecoderEmbedderOptions, type DecoderVocab } from './DecoderEmbedder.js';
import { flagLLMModelSchema, textList, type EncodeCallOptions, type Encoded } from './options.js';
import { checkOptions } from './validate.js';

/** FlagEmbedding's BaseLLMEmbedder default; registry entries carry each model's own format. */
export const DEFAULT_LLM_QUERY_INSTRUCTION_FORMAT = 'Instruct: {}\nQuery: {}';

export type FlagLLMModelOptions = DecoderEmbedderOptions;

/**
 * FlagEmbedding's FlagLLMModel (BaseLLMEmbedder) on a GGUF: decoder embedders such as
 * e5-mistral-7b-instruct, gte-Qwen2-*-instruct, bge-multilingual-gemma2, SFR, Linq and
 * Qwen3-Embedding. Every text (queries with their instruction) is tokenized as the model's
 * tokenizer does with truncation=True — BOS/EOS as the GGUF's add_bos/add_eos flags say — and
 * embedded as the final hidden state of its last token.
 */
export class FlagLLMModel extends DecoderEmbedder {
  static async load(pathOrUri: string, options: FlagLLMModelOptions = {}): Promise<FlagLLMModel> {
    options = checkOptions(flagLLMModelSchema, options, 'FlagLLMModel.load');
    const { engine, vocab } = await openDecoder(pathOrUri, options, 'FlagLLMModel');
    try {
      return new FlagLLMModel(engine, vocab, options);
    } catch (error) {
      await engine.dispose();
      throw error;
    }
  }

  protected constructor(engine: Engine, vocab: DecoderVocab, options: FlagLLMModelOptions) {
    super(engine, vocab, options, DEFAULT_LLM_QUERY_INSTRUCTION_FORMAT, 'FlagLLMModel');
  }

  /** Queries: the instruction through queryInstructionFormat (when set); queryMaxLength. */
  encodeQueries<T extends string | string[]>(queries: T, options: EncodeCallOptions = {}): Promise<Encoded<T>> {
    return this.encodeTexts(queries, 'encodeQueries', options, this.queryInstructionForRetrieval, this.queryInstructionFormat, this.settings.queryMaxLength);
  }

  /** The token ids the model sees for each query (what encodeQueries embeds). */
  tokenizeQueries(queries: string[], maxLength?: number): Int32Array[] {
    return textList(queries, 'tokenizeQueries').map((query) => this.tokenize(this.withQueryInstruction(query), maxLength ?? this.settings.queryMaxLength));
  }

  private withQueryInstruction(query: string): string {
    const instruction = this.queryInstructionForRetrieval;
    return instruction === null ? query : formatFields(this.queryInstructionFormat, instruction, query);
  }

  /** HF truncation=True with special tokens: the content is cut so BOS/EOS (as the GGUF adds them) fit maxLength. */
  protected wrap(text: string, maxLength: number): Int32Array {
    const { prefix, suffix } = specialTokens(this.engine);
    const room = maxLength - prefix.length - suffix.length;
    if (room < 1) throw new InvalidInputError(`maxLength ${maxLength} leaves no room for text next to the model's ${prefix.length + suffix.length} special token(s); use at least ${prefix.length + suffix.length + 1}`);
    const content = this.tokenizer.tokenize(text, room);
    const kept = Math.min(content.length, room);
    const ids = new Int32Array(prefix.length + kept + suffix.length);
    ids.set(prefix, 0);
    for (let i = 0; i < kept; i++) ids[prefix.length + i] = content[i];
    ids.set(suffix, prefix.length + kept);
    return ids;
  }
}
