import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { requireTask } from '../context.js';
import { ApiError } from '../httpError.js';
import { embedBodySchema, type EmbedBody } from '../types.js';
import { checkDimensions } from './embeddings.js';

/**
 * POST /embed {texts, type?: query | passage, dimensions?, return_sparse?, return_colbert?} →
 * {model, embeddings, lexical_weights?, colbert_vecs?, usage}: the project's own shape. The two BGE-M3
 * outputs are a 400 on other models, or on a bge-m3 GGUF without its heads sidecar.
 */
export function embedRoute(app: FastifyInstance, context: ServerContext): void {
  app.post<{ Body: EmbedBody }>('/embed', { schema: { body: embedBodySchema } }, async (request, reply) => {
    const model = requireTask(context, 'embed', '/embed');
    const { texts, type, return_sparse: sparse, return_colbert: colbert } = request.body;
    const list = Array.isArray(texts) ? texts : [texts];
    if (list.length === 0) throw new ApiError(400, 'texts is empty; send at least one text', 'invalid_input', 'texts');
    if (list.length > context.limits.maxTexts) {
      throw new ApiError(400, `texts has ${list.length} items, more than this server's limit of ${context.limits.maxTexts} per request`, 'invalid_input', 'texts');
    }
    const dimensions = checkDimensions(request.body.dimensions, model.info.dimension);
    const result = await context.execute(
      { op: 'embed', kind: type === 'query' ? 'queries' : 'corpus', texts: list, dimensions, shape: 'plain', format: 'float', sparse, colbert, maxTokens: context.limits.maxTokensPerRequest },
      request,
      reply,
    );
    reply.type('application/json; charset=utf-8');
    const lexical = result.lexicalJson ? `,"lexical_weights":${result.lexicalJson}` : '';
    const colbertVecs = result.colbertJson ? `,"colbert_vecs":${result.colbertJson}` : '';
    return `{"model":${JSON.stringify(context.modelName)},"embeddings":${result.dataJson}${lexical}${colbertVecs},"usage":{"tokens":${result.tokens}}}`;
  });
}
