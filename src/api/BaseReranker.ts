import { BgeGgufError, DisposedError, InvalidInputError } from '../errors.js';
import type { GgufFile } from '../gguf/types.js';
import type { Engine } from '../runtime/types.js';
import { bertPairTemplate, robertaPairTemplate, type PairTemplate } from '../prompt/rerankPairs.js';
import { embedSequences } from './embedSequences.js';
import type { BaseEmbedderOptions } from './options.js';

/** Options every reranker shares (FlagEmbedding's AbsReranker, camelCase). */
export interface BaseRerankerOptions extends Omit<BaseEmbedderOptions, 'normalizeEmbeddings' | 'truncateDim' | 'queryInstructionForRetrieval' | 'passageMaxLength'> {
  /** Most tokens of a query (default maxLength * 3 // 4, as FlagEmbedding). */
  queryMaxLength?: number;
  /** Most tokens of the whole pair (default 512). */
  maxLength?: number;
  /** Pass scores through a sigmoid (default false: raw logits). */
  normalize?: boolean;
  /** Most pairs in one decode (default 128, FlagEmbedding's). */
  batchSize?: number;
  queryInstructionForRerank?: string | null;
  queryInstructionFormat?: string;
  passageInstructionForRerank?: string | null;
  passageInstructionFormat?: string;
  /** llama.cpp flash attention (native engine); default off: on CPU it rounds K/V to F16, which moves scores by ~1e-4. */
  flashAttention?: boolean;
}

/**
 * The pair layout a reranker GGUF's tokenizer implies, and a check that the file has a classifier
 * head (llama.cpp's rank pooling needs cls.output or cls; without one it returns a hidden state).
 */
export function rerankerLayout(gguf: GgufFile, engine: Engine): PairTemplate {
  const names = new Set(gguf.tensors.map((t) => t.name));
  if (!names.has('cls.output.weight') && !names.has('cls.weight')) {
    throw new BgeGgufError(
      'UNSUPPORTED_MODEL',
      `${engine.info.name} has no classifier head (no cls.output.weight tensor): it is not a cross-encoder reranker GGUF; embed with FlagModel, or convert a *ForSequenceClassification checkpoint`,
    );
  }
  if (engine.info.causal) {
    throw new BgeGgufError('UNSUPPORTED_MODEL', `${engine.info.name} is a decoder (${engine.info.arch}) model; LLM rerankers are not supported yet`);
  }
  const { bosId, eosId } = engine.info;
  if (bosId === null || eosId === null) throw new BgeGgufError('UNSUPPORTED_MODEL', `${engine.info.name} declares no begin/end tokens to build a pair with`);
  // XLM-RoBERTa (SentencePiece/UGM) joins with a double </s>; BERT WordPiece with one [SEP].
  return gguf.metadata.get('tokenizer.ggml.model')?.value === 'bert' ? bertPairTemplate(bosId, eosId) : robertaPairTemplate(bosId, eosId);
}

/** State every reranker shares: the engine, its pair layout and disposal. */
export abstract class BaseReranker {
  protected engineRef: Engine | null;

  protected constructor(engine: Engine) {
    this.engineRef = engine;
  }

  protected get engine(): Engine {
    if (!this.engineRef) throw new DisposedError('this model');
    return this.engineRef;
  }

  /** 'native' (batched addon) or 'node-llama-cpp' (fallback). */
  get engineKind(): Engine['kind'] {
    return this.engine.kind;
  }

  /** The classifier's first output for each sequence (raw logits), in input order, length-sorted batches. */
  protected async scoreSequences(sequences: Int32Array[], batchSize: number, signal?: AbortSignal): Promise<number[]> {
    const longest = sequences.reduce((m, s) => Math.max(m, s.length), 0);
    if (longest > this.engine.info.trainContextLength) {
      throw new InvalidInputError(
        `a pair holds ${longest} tokens, more than the model's ${this.engine.info.trainContextLength}: queryMaxLength leaves the passage no room to be cut (lower queryMaxLength or maxLength)`,
      );
    }
    const outputs = await embedSequences(this.engine, sequences, { pooling: 'rank', batchSize, normalize: false, signal });
    return outputs.map((o) => o[0]);
  }

  /** Frees the model and its contexts. Safe to call twice. */
  async dispose(): Promise<void> {
    const engine = this.engineRef;
    this.engineRef = null;
    await engine?.dispose();
  }
}
