import { DisposedError, InvalidInputError } from '../errors.js';
import { loadEngine } from '../runtime/load.js';
import { resolveModelFile } from '../models/resolve.js';
import type { Engine, Pooling } from '../runtime/types.js';
import { checkMaxLength } from '../tokens/truncate.js';
import { withHfWordPieceRules } from '../tokens/wordpiece.js';
import { readGguf } from '../gguf/reader.js';
import { validateGguf } from '../gguf/validate.js';
import { embedSequences } from './embedSequences.js';
import { positiveInt, type BaseEmbedderOptions } from './options.js';

export interface ResolvedBaseOptions {
  normalizeEmbeddings: boolean;
  batchSize: number;
  queryMaxLength: number;
  passageMaxLength: number;
  truncateDim: number | undefined;
}

/** Loads the GGUF (path, hf: URI or the embedded default) into an engine. */
export async function openEngine(pathOrUri: string | undefined, options: BaseEmbedderOptions): Promise<Engine> {
  const path = await resolveModelFile(pathOrUri);
  const gguf = await readGguf(path);
  validateGguf(gguf, path); // llama.cpp aborts the process on some corrupt headers
  const metadata = gguf.metadata;
  const engine = await loadEngine(path, options, gguf);
  // BERT WordPiece GGUFs: follow HF's tokenizer where llama.cpp's WPM differs (see tokens/wordpiece.ts)
  const unk = metadata.get('tokenizer.ggml.unknown_token_id')?.value;
  return metadata.get('tokenizer.ggml.model')?.value === 'bert' && unk !== undefined ? withHfWordPieceRules(engine, Number(unk)) : engine;
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

  /** 'native' (batched addon) or 'node-llama-cpp' (fallback). */
  get engineKind(): Engine['kind'] {
    return this.engine.kind;
  }

  protected embedTokens(sequences: Int32Array[], pooling: Pooling, batchSize: number | undefined, signal?: AbortSignal): Promise<Float32Array[]> {
    return embedSequences(this.engine, sequences, {
      pooling,
      batchSize: positiveInt('batchSize', batchSize, this.settings.batchSize),
      normalize: this.settings.normalizeEmbeddings,
      truncateDim: this.settings.truncateDim,
      signal,
    });
  }

  /** Frees the model and its contexts. Safe to call twice. */
  async dispose(): Promise<void> {
    const engine = this.engineRef;
    this.engineRef = null;
    undisposed.unregister(this);
    await engine?.dispose();
  }
}
