import { DisposedError, InvalidInputError } from '../errors.js';
import { loadEngine } from '../runtime/load.js';
import { resolveModelFile } from '../models/resolve.js';
import type { Engine, ModelInfo, Pooling } from '../runtime/types.js';
import { checkMaxLength, specialTokens } from '../tokens/truncate.js';
import { WordPieceTokenizer } from '../tokens/wordpiece.js';
import { withWordPieceTokenizer } from '../tokens/wordpieceEngine.js';
import { unigramVocabFromGguf, withHfUnigram } from '../tokens/unigram.js';
import { readGguf } from '../gguf/reader.js';
import type { GgufFile } from '../gguf/types.js';
import { assertContextFits } from '../runtime/memoryEstimate.js';
import { validateGguf } from '../gguf/validate.js';
import { embedSequences } from './embedSequences.js';
import { tokenIdSequences } from './tokenIds.js';
import { checkOptions } from './validate.js';
import { encodeBatchesSchema, positiveInt, tokenIdsCallSchema, type BaseEmbedderOptions, type EncodeBatchesOptions, type EncodeCallOptions, type EncodeProgress, type TokenIdsCallOptions } from './options.js';

export interface ResolvedBaseOptions {
  normalizeEmbeddings: boolean;
  batchSize: number;
  queryMaxLength: number;
  passageMaxLength: number;
  truncateDim: number | undefined;
}

/** Loads the GGUF (path, hf: URI or the embedded default) into an engine. */
export async function openEngine(pathOrUri: string | undefined, options: BaseEmbedderOptions): Promise<Engine> {
  return (await openModel(pathOrUri, options)).engine;
}

/** openEngine, also handing back the GGUF header it read (read once per load) and the local file. */
export async function openModel(pathOrUri: string | undefined, options: BaseEmbedderOptions): Promise<{ engine: Engine; gguf: GgufFile; path: string }> {
  const path = await resolveModelFile(pathOrUri, {
    signal: options.signal,
    onDownloadProgress: options.onDownloadProgress,
    connectTimeoutMs: options.downloadConnectTimeoutMs,
    idleTimeoutMs: options.downloadIdleTimeoutMs,
  });
  const gguf = await readGguf(path);
  validateGguf(gguf, path); // llama.cpp aborts the process on some corrupt headers
  assertContextFits(gguf, options.batchTokens);
  const metadata = gguf.metadata;
  // BERT WordPiece GGUFs are tokenized by the project, exactly as HF's BertTokenizerFast (see tokens/wordpiece.ts)
  const wordPiece = metadata.get('tokenizer.ggml.model')?.value === 'bert' ? WordPieceTokenizer.fromGguf(gguf) : null;
  // XLM-R SentencePiece (UGM) GGUFs: tokenize as HF's XLMRobertaTokenizerFast (see tokens/unigram.ts)
  const unigram = unigramVocabFromGguf(metadata, path);
  const engine = await loadEngine(path, options, gguf);
  if (wordPiece) return { engine: withWordPieceTokenizer(engine, wordPiece), gguf, path };
  try {
    return { engine: unigram ? withHfUnigram(engine, unigram) : engine, gguf, path };
  } catch (error) {
    await engine.dispose(); // a malformed charsmap (CorruptModelError) must not leak the loaded model
    throw error;
  }
}

let warnedUndisposed = false;

/** Safety net: a model dropped without dispose() has its llama.cpp model and contexts freed when it is collected. */
const undisposed = new FinalizationRegistry<Engine>((engine) => {
  if (!warnedUndisposed) {
    warnedUndisposed = true;
    console.warn('bge-gguf: a model was garbage-collected without dispose(); its native memory is freed now, but call `await model.dispose()` when done to free it promptly.');
  }
  engine.dispose().catch(() => undefined);
});

/** State and plumbing every embedder shares: the engine, post-processing and disposal. */
export abstract class BaseEmbedder {
  protected engineRef: Engine | null;
  protected readonly settings: ResolvedBaseOptions;

  protected constructor(engine: Engine, options: BaseEmbedderOptions) {
    this.engineRef = engine;
    undisposed.register(this, engine, this);
    const truncateDim = options.truncateDim ?? undefined;
    if (truncateDim !== undefined) positiveInt('truncateDim', truncateDim, 1);
    if (truncateDim !== undefined && truncateDim > engine.info.embeddingDim) {
      throw new InvalidInputError(`truncateDim ${truncateDim} is larger than the model's ${engine.info.embeddingDim} dimensions`);
    }
    const maxLength = Math.min(512, engine.info.trainContextLength);
    this.settings = {
      normalizeEmbeddings: options.normalizeEmbeddings ?? true,
      batchSize: positiveInt('batchSize', options.batchSize, 256),
      queryMaxLength: checkMaxLength('queryMaxLength', options.queryMaxLength ?? maxLength, engine),
      passageMaxLength: checkMaxLength('passageMaxLength', options.passageMaxLength ?? maxLength, engine),
      truncateDim,
    };
  }

  protected get engine(): Engine {
    if (!this.engineRef) throw new DisposedError('this model');
    return this.engineRef;
  }

  /** Length of the vectors this model returns. */
  get dimension(): number {
    return this.settings.truncateDim ?? this.engine.info.embeddingDim;
  }

  /** What the GGUF says about the model: architecture, dimensions, context length, vocabulary size, special tokens. */
  get modelInfo(): Readonly<ModelInfo> {
    return this.engine.info;
  }

  /** 'native' (batched addon) or 'node-llama-cpp' (fallback). */
  get engineKind(): Engine['kind'] {
    return this.engine.kind;
  }

  protected embedTokens(
    sequences: Int32Array[],
    pooling: Pooling,
    batchSize: number | undefined,
    signal?: AbortSignal,
    onProgress?: (progress: EncodeProgress) => void,
  ): Promise<Float32Array[]> {
    return embedSequences(this.engine, sequences, {
      pooling,
      batchSize: positiveInt('batchSize', batchSize, this.settings.batchSize),
      normalize: this.settings.normalizeEmbeddings,
      truncateDim: this.settings.truncateDim,
      signal,
      onProgress,
    });
  }

  /** `await using model = await FlagModel.load()` disposes the model when the scope ends. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  /** Pooling for encodeTokenIds: FlagModel overrides it with its poolingMethod. */
  protected get tokenIdsPooling(): Pooling {
    return this.engine.info.causal ? 'last' : 'cls';
  }

  /**
   * Embeds token ids instead of texts (what an OpenAI client sends as `input: number[][]`), skipping
   * tokenization. Each list is one text's content tokens, as `tokenize()` returns them with or without
   * its special tokens: a missing leading [CLS]/<s> or trailing [SEP]/</s> is added, content longer than
   * maxLength (special tokens included) is cut as text would be. Ids outside the vocabulary are an error.
   */
  async encodeTokenIds(ids: ArrayLike<number>[], callOptions: TokenIdsCallOptions = {}): Promise<Float32Array[]> {
    const options = checkOptions(tokenIdsCallSchema, callOptions, 'encodeTokenIds');
    const info = this.engine.info;
    const maxLength = checkMaxLength('maxLength', options.maxLength ?? this.settings.passageMaxLength, this.engine);
    const wrap = info.causal ? { prefix: info.bosId === null ? [] : [info.bosId], suffix: info.eosId === null ? [] : [info.eosId] } : specialTokens(this.engine);
    const sequences = tokenIdSequences(ids, { ...wrap, maxLength, vocabSize: info.vocabSize });
    return this.embedTokens(sequences, this.tokenIdsPooling, options.batchSize, options.signal, options.onProgress);
  }

  /**
   * Streams a large corpus: texts (an array, iterable or async iterable) are embedded batchSize at a
   * time and yielded as {index of the batch's first text, vectors}; only one batch is held at once.
   * Breaking out of the loop or aborting the signal stops the work.
   */
  async *encodeBatches(
    texts: Iterable<string> | AsyncIterable<string>,
    batchesOptions: EncodeBatchesOptions = {},
  ): AsyncGenerator<{ index: number; vectors: Float32Array[] }> {
    const options = checkOptions(encodeBatchesSchema, batchesOptions, 'encodeBatches');
    const size = positiveInt('batchSize', options.batchSize, this.settings.batchSize);
    const method = { corpus: 'encodeCorpus', queries: 'encodeQueries', plain: 'encode' }[options.kind ?? 'corpus'];
    if (!method) throw new InvalidInputError(`encodeBatches kind must be 'corpus', 'queries' or 'plain', got ${JSON.stringify(options.kind)}`);
    const encode = (this as unknown as Record<string, (t: string[], o: EncodeCallOptions) => Promise<Float32Array[]>>)[method].bind(this);
    let index = 0;
    let batch: string[] = [];
    const flush = async () => {
      const vectors = await encode(batch, { signal: options.signal });
      const out = { index, vectors };
      index += batch.length;
      batch = [];
      return out;
    };
    for await (const text of texts) {
      batch.push(text);
      if (batch.length === size) yield await flush();
    }
    if (batch.length > 0) yield await flush();
  }

  /** Frees the model and its contexts. Safe to call twice. */
  async dispose(): Promise<void> {
    const engine = this.engineRef;
    this.engineRef = null;
    undisposed.unregister(this);
    await engine?.dispose();
  }
}
