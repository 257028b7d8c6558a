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
}

export const embedBodySchema = {
  type: 'object',
  required: ['texts'],
  properties: {
    texts: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    type: { type: 'string', enum: ['query', 'passage'] },
    dimensions: { type: 'integer' },
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
  /** Most tokens (after truncation, special tokens included) the request may embed. */
  maxTokens: number;
}

/** A finished job: the response's data array already serialized (so the HTTP thread never loops over vectors). */
export interface EmbedResult {
  dataJson: string;
  count: number;
  tokens: number;
}

/** The loaded model, as the HTTP thread sees it. */
export interface ServedModelInfo {
  name: string;
  dimension: number;
  engine: string;
  causal: boolean;
  vocabSize: number;
}
