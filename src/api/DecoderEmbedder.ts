import { BgeGgufError, InvalidInputError } from '../errors.js';
import type { IclTokenizer } from '../prompt/icl.js';
import { unescapeNewlines } from '../prompt/icl.js';
import { formatFields } from '../prompt/instruction.js';
import type { Engine } from '../runtime/types.js';
import { cutForBudget, cutRuleFor, type CutRule } from '../tokens/cutLongText.js';
import { sentencePieceDecoder, type IdsDecoder } from '../tokens/sentencePieceDecode.js';
import { BaseEmbedder, openModel } from './BaseEmbedder.js';
import { callTexts, positiveInt, textList, asEncoded, type BaseEmbedderOptions, type EncodeCallOptions, type Encoded } from './options.js';
import { typedTextFailure } from './inputGuard.js';

export interface DecoderEmbedderOptions extends BaseEmbedderOptions {
  /** Instruction for passages in encodeCorpus (FlagEmbedding's passage_instruction_for_retrieval). */
  passageInstructionForRetrieval?: string | null;
  passageInstructionFormat?: string;
}

/** What a decoder embedder needs to know about the GGUF's vocabulary beyond the engine. */
export interface DecoderVocab {
  /** tokenizer.ggml.model: "llama" (SentencePiece), "gpt2" (byte-level BPE), … */
  model: string;
  /** tokenizer.ggml.pre, e.g. "qwen2". */
  pre: string;
  pieces: string[];
}

/** Loads a decoder GGUF into an engine, with the vocabulary the HF-style tokenizer needs. */
export async function openDecoder(pathOrUri: string, options: BaseEmbedderOptions, className: string): Promise<{ engine: Engine; vocab: DecoderVocab }> {
  if (typeof pathOrUri !== 'string' || pathOrUri === '') {
    throw new InvalidInputError(`${className}.load needs the path or hf: URI of a decoder GGUF (there is no embedded default decoder model)`);
  }
  const { engine, gguf } = await openModel(pathOrUri, options);
  const value = (key: string) => gguf.metadata.get(key)?.value;
  const pieces = value('tokenizer.ggml.tokens');
  const vocab: DecoderVocab = {
    model: String(value('tokenizer.ggml.model') ?? ''),
    pre: String(value('tokenizer.ggml.pre') ?? ''),
    pieces: Array.isArray(pieces) ? pieces.map(String) : [],
  };
  return { engine, vocab };
}

/**
 * The model's tokenizer as Hugging Face runs it, on llama.cpp's vocabulary: special and added
 * tokens written in the text are matched as one token (llama.cpp's special-token parsing on),
 * Qwen2's NFC normalization is applied, and SentencePiece vocabularies decode like HF's
 * batch_decode (sentencePieceDecode.ts). Content tokens only: callers add <s>/</s> themselves.
 */
export function hfStyleTokenizer(engine: () => Engine, vocab: DecoderVocab, bosId: number, eosId: number): IclTokenizer {
  const rule: CutRule | null = cutRuleFor(vocab.pieces);
  const nfc = vocab.pre === 'qwen2';
  const decode: IdsDecoder =
    vocab.model === 'llama' && vocab.pieces.length > 0 ? sentencePieceDecoder(vocab.pieces) : (ids) => engine().detokenize(ids);
  return {
    tokenize(text, budget) {
      const normalized = nfc ? text.normalize('NFC') : text;
      const cut = budget === undefined ? normalized : cutForBudget(normalized, budget, rule);
      return engine().tokenize(cut, { addSpecial: false, parseSpecial: true });
    },
    detokenize: decode,
    bosId,
    eosId,
  };
}

/**
 * What FlagEmbedding's decoder-only embedders share (BaseLLMEmbedder, ICLLLMEmbedder): a causal
 * model, last-token pooling, the tokenizer above, instruction formats, and passages embedded as
 * the tokenizer wraps them. Subclasses decide how a text is wrapped and how queries are built.
 */
export abstract class DecoderEmbedder extends BaseEmbedder {
  readonly queryInstructionForRetrieval: string | null;
  readonly queryInstructionFormat: string;
  readonly passageInstructionForRetrieval: string | null;
  readonly passageInstructionFormat: string;
  protected readonly tokenizer: IclTokenizer;

  protected constructor(engine: Engine, vocab: DecoderVocab, options: DecoderEmbedderOptions, defaultQueryFormat: string, className: string) {
    super(engine, options);
    const { info } = engine;
    if (!info.causal) {
      throw new BgeGgufError('UNSUPPORTED_MODEL', `${info.name} is an encoder (${info.arch}) model; ${className} embeds decoder models — use FlagModel`);
    }
    if (info.bosId === null || info.eosId === null) {
      throw new BgeGgufError('UNSUPPORTED_MODEL', `${info.name} has no ${info.bosId === null ? 'BOS' : 'EOS'} token in its vocabulary; ${className} needs both`);
    }
    this.tokenizer = hfStyleTokenizer(() => this.engine, vocab, info.bosId, info.eosId);
    this.queryInstructionForRetrieval = stringOrNull('queryInstructionForRetrieval', options.queryInstructionForRetrieval);
    this.queryInstructionFormat = unescapeNewlines(stringOption('queryInstructionFormat', options.queryInstructionFormat, defaultQueryFormat));
    this.passageInstructionForRetrieval = stringOrNull('passageInstructionForRetrieval', options.passageInstructionForRetrieval);
    this.passageInstructionFormat = stringOption('passageInstructionFormat', options.passageInstructionFormat, '{}{}');
  }

  /** One text's ids as the model's tokenizer call with truncation=True makes them. */
  protected abstract wrap(text: string, maxLength: number): Int32Array;

  /** Passages: the passage instruction if set; passageMaxLength. */
  encodeCorpus<T extends string | string[]>(corpus: T, options: EncodeCallOptions = {}): Promise<Encoded<T>> {
    return this.encodeTexts(corpus, 'encodeCorpus', options, this.passageInstructionForRetrieval, this.passageInstructionFormat, this.settings.passageMaxLength);
  }

  /** Texts as given (an instruction only if passed in options); passageMaxLength. */
  encode<T extends string | string[]>(texts: T, options: EncodeCallOptions = {}): Promise<Encoded<T>> {
    return this.encodeTexts(texts, 'encode', options, options?.instruction ?? null, options?.instructionFormat ?? '{}{}', this.settings.passageMaxLength);
  }

  /** The token ids the model sees for a passage (truncated to maxLength). */
  tokenize(text: string, maxLength?: number): Int32Array {
    textList(text, 'tokenize');
    return this.wrap(text, positiveInt('maxLength', maxLength, this.settings.passageMaxLength));
  }

  protected async encodeTexts<T extends string | string[]>(
    input: T,
    where: string,
    callOptions: EncodeCallOptions,
    instruction: string | null,
    format: string,
    defaultMaxLength: number,
  ): Promise<Encoded<T>> {
    const { texts, options } = callTexts(input, callOptions, where);
    const maxLength = positiveInt(`${where} maxLength`, options.maxLength, defaultMaxLength);
    const sequences = texts.map((text) =>
      typedTextFailure(where, text, () => this.wrap(instruction === null ? text : formatFields(unescapeNewlines(format), instruction, text), maxLength)),
    );
    const vectors = await this.embedTokens(sequences, 'last', options.batchSize, options.signal, options.onProgress);
    return asEncoded(input, vectors);
  }
}

export function stringOption(name: string, value: unknown, fallback: string): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw new InvalidInputError(`${name} must be a string, got ${typeof value}`);
  return value;
}

export function stringOrNull(name: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new InvalidInputError(`${name} must be a string or null, got ${typeof value}`);
  return value;
}
