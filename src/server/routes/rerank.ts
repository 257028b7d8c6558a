import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { FlagReranker } from '../../api/FlagReranker.js';
import { BgeGgufError } from '../../errors.js';

export interface RerankRouteOptions {
  reranker: FlagReranker;
  /** Name reported in responses (default "bge-gguf"). */
  modelName?: string;
  /** Most documents in one request (default 1024). */
  maxDocuments?: number;
}

/** The request shape llama-server, TEI, Jina and Cohere share. */
export interface RerankRequest {
  model?: string;
  query: string;
  documents: Array<string | { text: string }>;
  top_n?: number;
  return_documents?: boolean;
  /** true: the classifier's raw logits; default: sigmoid scores in [0, 1] (as TEI, Jina and Cohere return). */
  raw_scores?: boolean;
}

export interface RerankResponse {
  model: string;
  object: 'list';
  results: Array<{ index: number; relevance_score: number; document?: { text: string } }>;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** The request's problem in words, or null (checked by hand: fastify's schema coercion would turn "a" into ["a"]). */
function invalid(body: unknown): string | null {
  const b = body as Partial<Record<keyof RerankRequest, unknown>> | null;
  if (!b || typeof b !== 'object' || Array.isArray(b)) return 'the body must be a JSON object {query, documents}';
  if (typeof b.query !== 'string') return 'query must be a string';
  if (!Array.isArray(b.documents)) return 'documents must be an array of strings (or {text} objects)';
  const bad = b.documents.findIndex((d) => typeof d !== 'string' && typeof (d as { text?: unknown } | null)?.text !== 'string');
  if (bad >= 0) return `documents[${bad}] is neither a string nor {text: string}`;
  if (b.top_n !== undefined && (!Number.isInteger(b.top_n) || (b.top_n as number) < 1)) return 'top_n must be a positive integer';
  for (const key of ['return_documents', 'raw_scores'] as const) if (b[key] !== undefined && typeof b[key] !== 'boolean') return `${key} must be true or false`;
  if (b.model !== undefined && typeof b.model !== 'string') return 'model must be a string';
  return null;
}

/**
 * POST /v1/rerank (and /rerank): the documents ranked by relevance to the query, best first,
 * `top_n` of them; `document` only with return_documents. A fastify plugin over one FlagReranker.
 */
export const rerankRoutes: FastifyPluginAsync<RerankRouteOptions> = async (app, options) => {
  const maxDocuments = options.maxDocuments ?? 1024;
  const modelName = options.modelName ?? 'bge-gguf';
  const handler = async (request: FastifyRequest<{ Body: RerankRequest }>, reply: FastifyReply): Promise<RerankResponse | FastifyReply> => {
    const problem = invalid(request.body);
    if (problem) return reply.code(400).send({ error: { message: problem, type: 'invalid_request_error' } });
    const body = request.body;
    if (body.documents.length > maxDocuments) {
      return reply.code(400).send({ error: { message: `send at most ${maxDocuments} documents, got ${body.documents.length}`, type: 'invalid_request_error' } });
    }
    const texts = body.documents.map((d) => (typeof d === 'string' ? d : d.text));
    try {
      const { results, tokens } = await options.reranker.rank(body.query, texts, { topN: body.top_n, normalize: !body.raw_scores });
      return {
        model: body.model ?? modelName,
        object: 'list',
        results: results.map((r) => ({ index: r.index, relevance_score: r.score, ...(body.return_documents ? { document: { text: r.document } } : {}) })),
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    } catch (error) {
      if (error instanceof BgeGgufError && error.code === 'INVALID_INPUT') {
        return reply.code(400).send({ error: { message: error.message, type: 'invalid_request_error' } });
      }
      throw error;
    }
  };
  for (const url of ['/v1/rerank', '/rerank']) app.post<{ Body: RerankRequest }>(url, handler);
};
