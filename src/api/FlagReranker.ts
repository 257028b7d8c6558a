import { InvalidInputError } from '../errors.js';
import type { Engine } from '../runtime/types.js';
import { applyPairInstructions, buildPairIds, pairList, type PairTemplate, type RerankPair } from '../prompt/rerankPairs.js';
import { tokenizeMany } from '../tokens/tokenizeMany.js';
import { openModel } from './BaseEmbedder.js';
import { BaseReranker, rerankerLayout, type BaseRerankerOptions } from './BaseReranker.js';
import { positiveInt } from './options.js';

export type FlagRerankerOptions = BaseRerankerOptions;

export interface ComputeScoreOptions {
  normalize?: boolean;
  batchSize?: number;
  maxLength?: number;
  queryMaxLength?: number;
  signal?: AbortSignal;
}

export interface RankOptions extends ComputeScoreOptions {
  /** Keep the best N documents (default: all). */
  topN?: number;
}

export interface RankedDocument {
  /** Position of the document in the input. */
  index: number;
  score: number;
  document: string;
}

/** What computeScore returns: one score for one pair, a list for a list. */
export type Scores<T> = T extends RerankPair ? number : number[];

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * FlagEmbedding's FlagReranker: cross-encoder rerankers (bge-reranker-base/-large/-v2-m3, XLM-RoBERTa
 * sequence classifiers) on a GGUF, scored by llama.cpp's rank pooling (the classifier head in the graph).
 */
export class FlagReranker extends BaseReranker {
  readonly maxLength: number;
  readonly queryMaxLength: number | null;
  readonly normalize: boolean;
  readonly batchSize: number;
  private readonly options: FlagRerankerOptions;
  private readonly template: PairTemplate;

  /** Loads a reranker GGUF: a local path or an `hf:org/repo/file.gguf` URI. */
  static async load(pathOrUri: string, options: FlagRerankerOptions = {}): Promise<FlagReranker> {
    if (typeof pathOrUri !== 'string' || pathOrUri.length === 0) throw new InvalidInputError('FlagReranker.load: give a GGUF path or hf: URI');
    // flash attention off by default: llama.cpp's CPU kernel rounds K/V to F16 (~1e-4 on the logits)
    const withDefaults: FlagRerankerOptions = { ...options, flashAttention: options.flashAttention ?? false };
    const { engine, gguf } = await openModel(pathOrUri, withDefaults);
    try {
      return new FlagReranker(engine, rerankerLayout(gguf, engine), options);
    } catch (error) {
      await engine.dispose();
      throw error;
    }
  }

  protected constructor(engine: Engine, template: PairTemplate, options: FlagRerankerOptions) {
    super(engine);
    this.template = template;
    this.options = options;
    this.maxLength = this.checkLength('maxLength', options.maxLength ?? Math.min(512, engine.info.trainContextLength));
    this.queryMaxLength = options.queryMaxLength === undefined || options.queryMaxLength === null ? null : this.checkLength('queryMaxLength', options.queryMaxLength);
    this.normalize = options.normalize ?? false;
    this.batchSize = positiveInt('batchSize', options.batchSize, 128);
  }

  /**
   * Relevance of each passage to its query: the classifier's logit, or its sigmoid with normalize.
   * One [query, passage] pair gives a number, a list of pairs a list in the same order.
   */
  async computeScore<T extends RerankPair | RerankPair[]>(input: T, options: ComputeScoreOptions = {}): Promise<Scores<T>> {
    const scores = await this.scorePairs(input, options);
    return (Array.isArray(input) && input.length === 2 && typeof input[0] === 'string' ? scores[0] : scores) as Scores<T>;
  }

  /**
   * Scores every document against one query and sorts them, best first (ties keep input order);
   * `tokens`: the tokens the model read, for usage reports.
   */
  async rank(query: string, documents: readonly string[], options: RankOptions = {}): Promise<{ results: RankedDocument[]; tokens: number }> {
    if (typeof query !== 'string') throw new InvalidInputError('rank: query must be a string');
    if (!Array.isArray(documents) || documents.some((d) => typeof d !== 'string')) throw new InvalidInputError('rank: documents must be an array of strings');
    return this.rankPairIds(await this.pairIds(documents.map((d): RerankPair => [query, d]), options), documents, options);
  }

  /**
   * rank() for pairs already tokenized by pairIds() (in the documents' order), so a caller that
   * checks their token count first (the server's per-request limit) tokenizes them once.
   */
  async rankPairIds(ids: Int32Array[], documents: readonly string[], options: RankOptions = {}): Promise<{ results: RankedDocument[]; tokens: number }> {
    if (!Array.isArray(ids) || ids.length !== documents.length) throw new InvalidInputError('rankPairIds: one pair of token ids per document');
    const topN = positiveInt('topN', options.topN, documents.length || 1);
    const { scores, tokens } = await this.scoreIds(ids, options);
    const results = scores
      .map((score, index) => ({ index, score, document: documents[index] }))
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, topN);
    return { results, tokens };
  }

  /** The token ids the model sees for each pair (`<s> q </s></s> p </s>`, truncated as FlagEmbedding does). */
  async pairIds(input: RerankPair | RerankPair[], options: Pick<ComputeScoreOptions, 'maxLength' | 'queryMaxLength'> = {}): Promise<Int32Array[]> {
    const { pairs } = pairList(input);
    const maxLength = this.checkLength('maxLength', options.maxLength ?? this.maxLength);
    const queryMaxLength = options.queryMaxLength ?? this.queryMaxLength ?? Math.floor((maxLength * 3) / 4);
    this.checkLength('queryMaxLength', queryMaxLength);
    const detailed = pairs.map((p) =>
      applyPairInstructions(p, {
        queryInstruction: this.options.queryInstructionForRerank,
        queryInstructionFormat: this.options.queryInstructionFormat,
        passageInstruction: this.options.passageInstructionForRerank,
        passageInstructionFormat: this.options.passageInstructionFormat,
      }),
    );
    const engine = this.engine;
    const plain = (text: string) => engine.tokenize(text, { addSpecial: false });
    const queries = await tokenizeMany(detailed.map((p) => p[0]), plain);
    const passages = await tokenizeMany(detailed.map((p) => p[1]), plain);
    return queries.map((q, i) => buildPairIds(q, passages[i], this.template, maxLength, queryMaxLength));
  }

  private async scorePairs(input: RerankPair | RerankPair[], options: ComputeScoreOptions): Promise<number[]> {
    return (await this.scoreWithTokens(input, options)).scores;
  }

  private async scoreWithTokens(input: RerankPair | RerankPair[], options: ComputeScoreOptions): Promise<{ scores: number[]; tokens: number }> {
    const { pairs } = pairList(input);
    if (pairs.length === 0) return { scores: [], tokens: 0 };
    return this.scoreIds(await this.pairIds(pairs, options), options);
  }

  private async scoreIds(sequences: Int32Array[], options: ComputeScoreOptions): Promise<{ scores: number[]; tokens: number }> {
    if (sequences.length === 0) return { scores: [], tokens: 0 };
    const logits = await this.scoreSequences(sequences, positiveInt('batchSize', options.batchSize, this.batchSize), options.signal);
    const tokens = sequences.reduce((sum, s) => sum + s.length, 0);
    return { scores: (options.normalize ?? this.normalize) ? logits.map(sigmoid) : logits, tokens };
  }

  private checkLength(name: string, value: number): number {
    const max = this.engine.info.trainContextLength;
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new InvalidInputError(`${name} must be an integer from 1 to ${max} (the model's context length), got ${value}`);
    }
    return value;
  }
}
