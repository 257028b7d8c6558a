import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/** GET /metrics in Prometheus' text format. */
export function metricsRoute(app: FastifyInstance, context: ServerContext): void {
  app.get('/metrics', async (_request, reply) => {
    reply.type(context.metrics.registry.contentType);
    return context.metrics.registry.metrics();
  });
}
