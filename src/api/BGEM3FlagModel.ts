import { BgeGgufError, InvalidInputError } from '../errors.js';
import { decodeGroups } from '../batch/executor.js';
import { applyLinear, type LinearHead } from '../heads/linear.js';
import { colbertVectorsFrom, lexicalWeightsFrom, type LexicalWeights } from '../heads/m3.js';
import { missingM3Heads, readM3Heads, type M3Heads } from '../heads/m3HeadsFile.js';
import type { GgufFile } from '../gguf/types.js';
import type { Engine } from '../runtime/types.js';
import { applyInstruction } from '../prompt/instruction.js';
import { tokenizeMany } from '../tokens/tokenizeMany.js';
import { checkMaxLength, tokenizeTruncated } from '../tokens/truncate.js';
import { postprocess } from '../vectors/normalize.js';
import { colbertScore, combineM3Scores, computeLexicalMatchingScore, type M3PairScores } from '../vectors/m3Scores.js';
import { dot } from '../vectors/similarity.js';
import { BaseEmbedder, openModel } from './BaseEmbedder.js';
import { typedTextFailure } from './inputGuard.js';
import { baseEmbedderSchema, callTexts, positiveInt, textList, type BaseEmbedderOptions, type EncodeProgress } from './options.js';
import { arrayOf, checkOptions, isAbortSignal, isBoolean, isFunction, isPositiveInt, type Check, type OptionSchema } from './validate.js';

export type BGEM3FlagModelOptions = BaseEmbedderOptions;

export interface M3EncodeOptions {
  batchSize?: number;
  /** Longest input in tokens (default 512, as FlagEmbedding; up to the model's 8192). */
  maxLength?: number;
  returnDense?: boolean; // default true
  returnSparse?: boolean; // default false
  returnColbertVecs?: boolean; // default false
  signal?: AbortSignal;
  /** Called once the texts are tokenized (done 0) and after each decoded group, as FlagModel's. */
  onProgress?: (progress: EncodeProgress) => void;
}

export interface M3ScoreOptions {
  batchSize?: number;
  maxQueryLength?: number;
  maxPassageLength?: number;
  /** [dense, sparse, colbert] (default [1, 1, 1]). */
  weightsForDifferentModes?: number[];
  signal?: AbortSignal;
}

/** One text's outputs; a list of texts gets lists. What was not asked for is null. */
export interface M3Output<T extends string | string[]> {
  denseVecs: (T extends string ? Float32Array : Float32Array[]) | null;
  lexicalWeights: (T extends string ? LexicalWeights : LexicalWeights[]) | null;
  colbertVecs: (T extends string ? Float32Array[] : Float32Array[][]) | null;
}

const isFiniteNumber: Check = (v) => (typeof v === 'number' && Number.isFinite(v) ? null : 'a finite number');

export const bgeM3Schema: OptionSchema<BGEM3FlagModelOptions> = baseEmbedderSchema;
export const m3EncodeSchema: OptionSchema<M3EncodeOptions> = {
  batchSize: isPositiveInt,
  maxLength: isPositiveInt,
  returnDense: isBoolean,
  returnSparse: isBoolean,
  returnColbertVecs: isBoolean,
  signal: isAbortSignal,
  onProgress: isFunction,
};
export const m3ScoreSchema: OptionSchema<M3ScoreOptions> = {
  batchSize: isPositiveInt,
  maxQueryLength: isPositiveInt,
  maxPassageLength: isPositiveInt,
  weightsForDifferentModes: arrayOf('three numbers [dense, sparse, colbert]', isFiniteNumber),
  signal: isAbortSignal,
};

interface Wanted {
  dense: boolean;
  sparse: boolean;
  colbert: boolean;
}

interface Outputs {
  dense: Float32Array[];
  sparse: LexicalWeights[];
  colbert: Float32Array[][];
}

/**
 * FlagEmbedding's BGEM3FlagModel (M3Embedder): one forward pass gives the dense vector (normalized
 * CLS), lexical weights (sparse_linear) and ColBERT vectors (colbert_linear). The two heads are read
 * from `<model>.m3-heads.gguf` beside the GGUF (bge-gguf convert writes it).
 */
export class BGEM3FlagModel extends BaseEmbedder {
  readonly queryInstructionForRetrieval: string | null;
  readonly queryInstructionFormat: string;
  /** null: no sidecar beside the GGUF (third-party bge-m3 GGUFs): dense vectors only. */
  private readonly heads: M3Heads | null;
  /** Whether the sidecar heads were found: sparse and ColBERT outputs need them. */
  get hasSparseAndColbert(): boolean {
    return this.heads !== null;
  }

  /** The GGUF file this model was loaded from. */
  readonly modelPath: string;
  private readonly dropIds: ReadonlySet<number>;

  static async load(pathOrUri: string, options: BGEM3FlagModelOptions = {}): Promise<BGEM3FlagModel> {
    options = checkOptions(bgeM3Schema, options, 'BGEM3FlagModel.load');
    if (typeof pathOrUri !== 'string' || pathOrUri === '') throw new InvalidInputError('BGEM3FlagModel.load needs a GGUF path or hf: URI');
    const { engine, gguf, path } = await openModel(pathOrUri, options);
    try {
      if (engine.info.causal) throw new BgeGgufError('UNSUPPORTED_MODEL', `${engine.info.name} is a decoder model; BGE-M3 is an XLM-RoBERTa encoder`);
      const heads = await readM3Heads(path, engine.info.embeddingDim);
      return new BGEM3FlagModel(engine, options, heads, unusedTokenIds(gguf), path);
    } catch (error) {
      await engine.dispose();
      throw error;
    }
  }

  protected constructor(engine: Engine, options: BGEM3FlagModelOptions, heads: M3Heads | null, dropIds: ReadonlySet<number>, modelPath: string) {
    super(engine, options);
    this.queryInstructionForRetrieval = options.queryInstructionForRetrieval ?? null;
    this.queryInstructionFormat = options.queryInstructionFormat ?? '{}{}';
    this.heads = heads;
    this.modelPath = modelPath;
    this.dropIds = dropIds;
  }

  encode<T extends string | string[]>(texts: T, options: M3EncodeOptions = {}): Promise<M3Output<T>> {
    return this.encodeAs(texts, options, this.settings.passageMaxLength, 'encode');
  }

  /** Queries: queryInstructionForRetrieval applied through queryInstructionFormat (as FlagEmbedding's encode_queries); queryMaxLength. */
  encodeQueries<T extends string | string[]>(queries: T, options: M3EncodeOptions = {}): Promise<M3Output<T>> {
    return this.encodeAs(queries, options, this.settings.queryMaxLength, 'encodeQueries', (q) => applyInstruction(q, this.queryInstructionForRetrieval, this.queryInstructionFormat));
  }

  encodeCorpus<T extends string | string[]>(corpus: T, options: M3EncodeOptions = {}): Promise<M3Output<T>> {
    return this.encodeAs(corpus, options, this.settings.passageMaxLength, 'encodeCorpus');
  }

  /** Lexical weights keyed by the tokens' text instead of their ids (FlagEmbedding's convert_id_to_token). */
  convertIdToToken(weights: LexicalWeights): Record<string, number>;
  convertIdToToken(weights: LexicalWeights[]): Record<string, number>[];
  convertIdToToken(weights: LexicalWeights | LexicalWeights[]): Record<string, number> | Record<string, number>[] {
    const one = (w: LexicalWeights) => {
      const out: Record<string, number> = {};
      for (const [id, weight] of Object.entries(w)) out[this.engine.detokenize([Number(id)]).replace(/^ /, '')] = weight;
      return out;
    };
    return Array.isArray(weights) ? weights.map(one) : one(weights);
  }

  computeLexicalMatchingScore = computeLexicalMatchingScore;
  colbertScore = colbertScore;

  /**
   * FlagEmbedding's compute_score: queries and passages encoded with all three outputs, then per pair
   * dense, sparse and colbert scores and their weighted sums (weights [dense, sparse, colbert]).
   */
  async computeScore(pairs: [string, string] | Array<[string, string]>, options: M3ScoreOptions = {}): Promise<M3PairScores | Record<keyof M3PairScores, number[]>> {
    options = checkOptions(m3ScoreSchema, options, 'computeScore');
    const single = Array.isArray(pairs) && pairs.length === 2 && typeof pairs[0] === 'string';
    const list = (single ? [pairs] : pairs) as Array<[string, string]>;
    if (!Array.isArray(list) || list.some((p) => !Array.isArray(p) || p.length !== 2)) {
      throw new InvalidInputError('computeScore: pass a [query, passage] pair or an array of them');
    }
    const weights = options.weightsForDifferentModes ?? [1, 1, 1];
    const all: Wanted = { dense: true, sparse: true, colbert: true };
    const call = { batchSize: options.batchSize, signal: options.signal };
    const queries = await this.run(textList(list.map((p) => p[0]), 'computeScore'), all, checkMaxLength('maxQueryLength', options.maxQueryLength ?? this.settings.queryMaxLength, this.engine), call, 'computeScore');
    const passages = await this.run(textList(list.map((p) => p[1]), 'computeScore'), all, checkMaxLength('maxPassageLength', options.maxPassageLength ?? this.settings.passageMaxLength, this.engine), call, 'computeScore');
    const scores = list.map((_, i) =>
      combineM3Scores(
        dot(queries.dense[i], passages.dense[i]),
        computeLexicalMatchingScore(queries.sparse[i], passages.sparse[i]),
        colbertScore(queries.colbert[i], passages.colbert[i]),
        weights,
      ),
    );
    if (single) return scores[0];
    const keys = Object.keys(scores[0] ?? combineM3Scores(0, 0, 0, weights)) as Array<keyof M3PairScores>;
    return Object.fromEntries(keys.map((k) => [k, scores.map((s) => s[k])])) as Record<keyof M3PairScores, number[]>;
  }

  /** The token ids the model sees for a text (<s> … </s>, truncated to maxLength). */
  tokenize(text: string, maxLength: number = this.settings.passageMaxLength): Int32Array {
    textList(text, 'tokenize');
    return tokenizeTruncated(this.engine, text, checkMaxLength('maxLength', maxLength, this.engine));
  }

  private async encodeAs<T extends string | string[]>(input: T, callOptions: M3EncodeOptions, defaultMax: number, where: string, prepare = (text: string) => text): Promise<M3Output<T>> {
    const { texts: given, options } = callTexts<M3EncodeOptions>(input, callOptions, where, m3EncodeSchema);
    const texts = given.map(prepare);
    const wanted = { dense: options.returnDense ?? true, sparse: options.returnSparse ?? false, colbert: options.returnColbertVecs ?? false };
    if (!wanted.dense && !wanted.sparse && !wanted.colbert) {
      throw new InvalidInputError(`${where}: choose at least one of returnDense, returnSparse, returnColbertVecs`);
    }
    const maxLength = checkMaxLength(`${where} maxLength`, options.maxLength ?? defaultMax, this.engine);
    const out = await this.run(texts, wanted, maxLength, options, where);
    const pick = <V>(values: V[], on: boolean) => (on ? (Array.isArray(input) ? values : values[0]) : null);
    return {
      denseVecs: pick(out.dense, wanted.dense),
      lexicalWeights: pick(out.sparse, wanted.sparse),
      colbertVecs: pick(out.colbert, wanted.colbert),
    } as M3Output<T>;
  }

  /** A head over `count` token rows: natively when the engine can (measured faster), else in TypeScript. */
  private project(rows: Float32Array, count: number, head: LinearHead): Promise<Float32Array> {
    const engine = this.engine;
    return engine.applyLinear ? engine.applyLinear(rows, count, head) : Promise.resolve(applyLinear(rows, count, head));
  }

  /** Tokenize, decode every length-sorted group with per-token states, apply the heads; results in input order. */
  private async run(texts: string[], wanted: Wanted, maxLength: number, call: { batchSize?: number; signal?: AbortSignal; onProgress?: (progress: EncodeProgress) => void }, where: string): Promise<Outputs> {
    const engine = this.engine;
    const heads = this.heads;
    if ((wanted.sparse || wanted.colbert) && !heads) throw missingM3Heads(this.modelPath);
    const sequences = await tokenizeMany(texts, (text) => typedTextFailure(where, text, () => tokenizeTruncated(engine, text, maxLength)));
    const hidden = engine.info.embeddingDim;
    const batchSize = positiveInt('batchSize', call.batchSize, this.settings.batchSize);
    const out: Outputs = { dense: new Array(texts.length), sparse: new Array(texts.length), colbert: new Array(texts.length) };
    const options = { pooling: 'none' as const, batchSize, signal: call.signal, onProgress: call.onProgress };
    await decodeGroups(engine, sequences, options, async (group, states) => {
      const rows = contiguous(states);
      const count = rows.length / hidden;
      // One projection per head for the whole group (the CLS rows too: one row per text, then skipped)
      const sparse = wanted.sparse ? await this.project(rows, count, heads!.sparse) : null;
      const colbert = wanted.colbert ? await this.project(rows, count, heads!.colbert) : null;
      const width = heads?.colbert.outFeatures ?? 0;
      let row = 0;
      group.forEach((index, k) => {
        const ids = sequences[index];
        if (wanted.dense) out.dense[index] = postprocess(states[k].slice(0, hidden), { normalize: this.settings.normalizeEmbeddings, truncateDim: this.settings.truncateDim });
        if (sparse) out.sparse[index] = lexicalWeightsFrom(sparse.subarray(row, row + ids.length), ids, this.dropIds);
        if (colbert) out.colbert[index] = colbertVectorsFrom(colbert.subarray((row + 1) * width, (row + ids.length) * width), ids.length - 1, width, this.settings.truncateDim);
        row += ids.length;
      });
    });
    return out;
  }
}

/** The sequences' token states as one array: the decode's buffer when they lie back to back in it (native), else a copy. */
function contiguous(states: Float32Array[]): Float32Array {
  const first = states[0];
  const total = states.reduce((n, s) => n + s.length, 0);
  let next = first.byteOffset;
  const adjacent = states.every((s) => {
    const ok = s.buffer === first.buffer && s.byteOffset === next;
    next += s.byteLength;
    return ok;
  });
  if (adjacent) return new Float32Array(first.buffer, first.byteOffset, total);
  const out = new Float32Array(total);
  let at = 0;
  for (const s of states) {
    out.set(s, at);
    at += s.length;
  }
  return out;
}

/** FlagEmbedding drops the CLS, EOS, PAD and UNK ids from the lexical weights. */
function unusedTokenIds(gguf: GgufFile): Set<number> {
  const ids = new Set<number>();
  const id = (key: string) => gguf.metadata.get(`tokenizer.ggml.${key}`)?.value;
  for (const value of [id('cls_token_id') ?? id('bos_token_id'), id('eos_token_id'), id('padding_token_id'), id('unknown_token_id')]) {
    if (value !== undefined && value !== null) ids.add(Number(value));
  }
  return ids;
}
