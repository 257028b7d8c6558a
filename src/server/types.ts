/**
 * Request and response shapes of every route (JSON schemas for fastify's validation, and their
 * TypeScript types), and the jobs the model worker runs.
 */

/** OpenAI's POST /v1/embeddings body; `input_type` is our extension (query → the model's query instruction). */
export interface EmbeddingsBody {
  input: unknown; // string | string[] | number[] | number[][], checked by the route for precise messages
  model?: string;
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  input_type?: 'query' | 'passage' | 'document';
}

export const embeddingsBodySchema = {
  type: 'object',
  required: ['input'],
  properties: {
    input: {},
    model: { type: 'string' },
    encoding_format: { type: 'string', enum: ['float', 'base64'] },
    dimensions: { type: 'integer' },
    user: { type: 'string' },
    input_type: { type: 'string', enum: ['query', 'passage', 'document'] },
  },
} as const;

/** The project's own POST /embed body. */
export interface EmbedBody {
  texts: string | string[];
  type?: 'query' | 'passage';
  dimensions?: number;
  /** BGE-M3: also answer lexical_weights, [{token id: weight}] per text. */
  return_sparse?: boolean;
  /** BGE-M3: also answer colbert_vecs, one array of token vectors per text. */
  return_colbert?: boolean;
}

export const embedBodySchema = {
  type: 'object',
  required: ['texts'],
  properties: {
    texts: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    type: { type: 'string', enum: ['query', 'passage'] },
    dimensions: { type: 'integer' },
    return_sparse: { type: 'boolean' },
    return_colbert: { type: 'boolean' },
  },
} as const;

/** OpenAI's error body. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** What the model worker is asked to do for one request. */
export interface EmbedJob {
  op: 'embed';
  /** corpus: encodeCorpus, queries: encodeQueries. */
  kind: 'corpus' | 'queries';
  texts?: string[];
  ids?: number[][];
  /** Keep the first N dimensions and renormalize. */
  dimensions?: number;
  /** openai: [{object, index, embedding}], plain: [[…]]. */
  shape: 'openai' | 'plain';
  format: 'float' | 'base64';
  /** BGE-M3's lexical weights (result.lexicalJson). */
  sparse?: boolean;
  /** BGE-M3's ColBERT vectors (result.colbertJson). */
  colbert?: boolean;
  /** Most tokens (after truncation, special tokens included) the request may embed. */
  maxTokens: number;
}

/** A POST /v1/rerank request for the worker: score each document against the query, sort, keep topN. */
export interface RerankJob {
  op: 'rerank';
  query: string;
  documents: string[];
  topN?: number;
  /** Sigmoid scores in [0, 1]; false: the classifier's raw logits. */
  normalize: boolean;
  returnDocuments: boolean;
  /** Most tokens (the pairs as the model reads them) the request may score. */
  maxTokens: number;
}

export type ServerJob = EmbedJob | RerankJob;

/**
 * A finished job: the response's data array (embed) or results array (rerank) already serialized,
 * so the HTTP thread never loops over vectors.
 */
export interface EmbedResult {
  dataJson: string;
  count: number;
  tokens: number;
  /** sparse jobs: [{"token id": weight, …}, …] */
  lexicalJson?: string;
  /** colbert jobs: [[[…], …], …] */
  colbertJson?: string;
}

/** The loaded model, as the HTTP thread sees it. */
export interface ServedModelInfo {
  name: string;
  /** embed: /v1/embeddings and /embed answer; rerank: /v1/rerank and /rerank answer. */
  task: 'embed' | 'rerank';
  /** The vector size (0 for a reranker). */
  dimension: number;
  engine: string;
  causal: boolean;
  vocabSize: number;
}
