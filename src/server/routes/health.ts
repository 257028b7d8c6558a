import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/** GET /health: the process answers (liveness). GET /ready: the model is loaded and the server is not shutting down. */
export function healthRoute(app: FastifyInstance, context: ServerContext): void {
  app.get('/health', async () => ({
    status: 'ok',
    model: context.modelName,
    ...(context.model ? { dimension: context.model.info.dimension, engine: context.model.info.engine } : {}),
  }));
  app.get('/ready', async (_request, reply) => {
    const ready = context.model !== null && !context.draining;
    reply.code(ready ? 200 : 503);
    return { ready, ...(ready ? {} : { reason: context.draining ? 'shutting down' : 'model loading' }) };
  });
}
