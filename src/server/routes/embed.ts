import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { requireModel } from '../context.js';
import { ApiError } from '../httpError.js';
import { embedBodySchema, type EmbedBody } from '../types.js';
import { checkDimensions } from './embeddings.js';

/** POST /embed {texts, type?: query | passage, dimensions?} → {model, embeddings, usage}: the project's own shape. */
export function embedRoute(app: FastifyInstance, context: ServerContext): void {
  app.post<{ Body: EmbedBody }>('/embed', { schema: { body: embedBodySchema } }, async (request, reply) => {
    const { texts, type } = request.body;
    const list = Array.isArray(texts) ? texts : [texts];
    if (list.length === 0) throw new ApiError(400, 'texts is empty; send at least one text', 'invalid_input', 'texts');
    if (list.length > context.limits.maxTexts) {
      throw new ApiError(400, `texts has ${list.length} items, more than this server's limit of ${context.limits.maxTexts} per request`, 'invalid_input', 'texts');
    }
    const dimensions = checkDimensions(request.body.dimensions, requireModel(context).info.dimension);
    const result = await context.execute(
      { op: 'embed', kind: type === 'query' ? 'queries' : 'corpus', texts: list, dimensions, shape: 'plain', format: 'float', maxTokens: context.limits.maxTokensPerRequest },
      request,
      reply,
    );
    reply.type('application/json; charset=utf-8');
    return `{"model":${JSON.stringify(context.modelName)},"embeddings":${result.dataJson},"usage":{"tokens":${result.tokens}}}`;
  });
}
