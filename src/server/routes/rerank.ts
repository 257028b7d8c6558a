import type { FastifyInstance } from 'fastify';
import { requireTask, type ServerContext } from '../context.js';
import { ApiError } from '../httpError.js';

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

/** The request's problem as [message, param], or null (checked by hand: fastify's schema coercion would turn "a" into ["a"]). */
function invalid(body: unknown): [string, string | null] | null {
  const b = body as Partial<Record<keyof RerankRequest, unknown>> | null;
  if (!b || typeof b !== 'object' || Array.isArray(b)) return ['the body must be a JSON object {query, documents}', null];
  if (typeof b.query !== 'string') return ['query must be a string', 'query'];
  if (!Array.isArray(b.documents)) return ['documents must be an array of strings (or {text} objects)', 'documents'];
  const bad = b.documents.findIndex((d) => typeof d !== 'string' && typeof (d as { text?: unknown } | null)?.text !== 'string');
  if (bad >= 0) return [`documents[${bad}] is neither a string nor {text: string}`, 'documents'];
  if (b.top_n !== undefined && (!Number.isInteger(b.top_n) || (b.top_n as number) < 1)) return ['top_n must be a positive integer', 'top_n'];
  for (const key of ['return_documents', 'raw_scores'] as const) if (b[key] !== undefined && typeof b[key] !== 'boolean') return [`${key} must be true or false`, key];
  if (b.model !== undefined && typeof b.model !== 'string') return ['model must be a string', 'model'];
  return null;
}

/**
 * POST /v1/rerank (and /rerank): the documents ranked by relevance to the query, best first,
 * `top_n` of them; `document` only with return_documents. Scored in the model worker, queued,
 * limited and cancelled on disconnect like embedding requests; a 404 when the model is an embedder.
 */
export function rerankRoute(app: FastifyInstance, context: ServerContext): void {
  for (const url of ['/v1/rerank', '/rerank']) {
    app.post<{ Body: RerankRequest }>(url, async (request, reply) => {
      requireTask(context, 'rerank', url);
      const problem = invalid(request.body);
      if (problem) throw new ApiError(400, problem[0], 'invalid_value', problem[1]);
      const body = request.body;
      if (body.documents.length > context.limits.maxTexts) {
        throw new ApiError(400, `documents has ${body.documents.length} items, more than this server's limit of ${context.limits.maxTexts} per request`, 'invalid_input', 'documents');
      }
      const result = await context.execute(
        {
          op: 'rerank',
          query: body.query,
          documents: body.documents.map((d) => (typeof d === 'string' ? d : d.text)),
          topN: body.top_n,
          normalize: !body.raw_scores,
          returnDocuments: body.return_documents === true,
          maxTokens: context.limits.maxTokensPerRequest,
        },
        request,
        reply,
      );
      const usage = JSON.stringify({ prompt_tokens: result.tokens, total_tokens: result.tokens });
      reply.type('application/json; charset=utf-8');
      return `{"model":${JSON.stringify(body.model ?? context.modelName)},"object":"list","results":${result.dataJson},"usage":${usage}}`;
    });
  }
}
