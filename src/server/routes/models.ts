import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';
import { ApiError } from '../httpError.js';

/** GET /v1/models and /v1/models/:id, as OpenAI's: the one model this server embeds with. */
export function modelsRoute(app: FastifyInstance, context: ServerContext): void {
  const card = () => ({ id: context.modelName, object: 'model', created: Math.floor(context.startedAt / 1000), owned_by: 'bge-gguf' });
  app.get('/v1/models', async () => ({ object: 'list', data: [card()] }));
  app.get<{ Params: { id: string } }>('/v1/models/:id', async (request) => {
    if (request.params.id !== context.modelName) throw new ApiError(404, `this server serves "${context.modelName}", not "${request.params.id}"`, 'model_not_found', 'model');
    return card();
  });
}
