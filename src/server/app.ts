import { timingSafeEqual } from 'node:crypto';
import cors from '@fastify/cors';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { BgeGgufError } from '../errors.js';
import { DEFAULT_LIMITS, SMALL_IN_FLIGHT, executeWith, type ServerContext, type ServerLimits } from './context.js';
import { ApiError } from './httpError.js';
import { registerJsonBodies } from './jsonBody.js';
import { createMetrics } from './metrics.js';
import type { ModelHost } from './modelHost.js';
import { embedRoute } from './routes/embed.js';
import { embeddingsRoute } from './routes/embeddings.js';
import { healthRoute } from './routes/health.js';
import { metricsRoute } from './routes/metrics.js';
import { modelsRoute } from './routes/models.js';
import { WorkQueue } from './workQueue.js';

export interface AppOptions {
  /** The model worker; null to start answering /health while it loads (set context.model later). */
  model: ModelHost | null;
  modelName: string;
  limits?: Partial<ServerLimits>;
  /** Require `Authorization: Bearer <key>` on every route but /health and /ready. */
  apiKey?: string;
  /** true: any origin; a list: those origins; absent: no CORS headers. */
  cors?: true | string[];
  logger?: FastifyServerOptions['logger'];
}

/** One file per route; POST /v1/rerank (FlagReranker) is one more entry here. */
const ROUTES = [healthRoute, embeddingsRoute, embedRoute, modelsRoute, metricsRoute];
const OPEN_PATHS = new Set(['/health', '/ready']);

/** Builds the fastify app (not listening): routes, limits, queue, auth, CORS, metrics, OpenAI-shaped errors. */
export async function buildApp(options: AppOptions): Promise<{ app: FastifyInstance; context: ServerContext }> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: limits.maxBodyBytes,
    requestTimeout: limits.timeoutMs,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // keep JSON types as sent: a number is never coerced into a string input
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
  });
  const queue = new WorkQueue(limits.concurrency, limits.maxQueue);
  const smallQueue = new WorkQueue(SMALL_IN_FLIGHT, limits.maxQueue);
  const base = {
    model: options.model,
    modelName: options.modelName,
    limits,
    queue,
    smallQueue,
    metrics: createMetrics(() => queue.depth + smallQueue.depth, () => queue.active + smallQueue.active),
    draining: false,
    startedAt: Date.now(),
  };
  // one object: executeWith reads context.model at call time (serve sets it once the model has loaded)
  const context: ServerContext = Object.assign(base, { execute: executeWith(base) });

  app.removeContentTypeParser('application/json');
  registerJsonBodies(app);
  if (options.cors) await app.register(cors, { origin: options.cors === true ? '*' : options.cors, methods: ['GET', 'POST', 'OPTIONS'] });
  if (options.apiKey) {
    const expected = Buffer.from(options.apiKey);
    app.addHook('onRequest', async (request) => {
      if (OPEN_PATHS.has(request.url.split('?')[0]) || request.method === 'OPTIONS') return;
      const header = request.headers.authorization ?? '';
      const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new ApiError(401, 'missing or wrong API key: send Authorization: Bearer <key> (the key given to bge-gguf serve --api-key)', 'invalid_api_key');
      }
    });
  }
  // draining (SIGTERM): answers close their connection, so keep-alive clients do not hold the exit back
  app.addHook('onSend', async (_request, reply) => {
    if (context.draining) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    context.metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    context.metrics.latency.observe({ route }, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const api = asApiError(error);
    if (api.status >= 500 && api.status !== 503) app.log.error(error);
    reply.code(api.status).headers(api.headers).send(api.body());
  });
  app.setNotFoundHandler((request, reply) => {
    const api = new ApiError(404, `no route ${request.method} ${request.url.split('?')[0]}; see POST /v1/embeddings, POST /embed, GET /v1/models, /health, /ready, /metrics`, 'not_found');
    reply.code(404).send(api.body());
  });
  for (const route of ROUTES) route(app, context);
  return { app, context };
}

function asApiError(error: FastifyError): ApiError {
  if (error instanceof ApiError) return error;
  if (error.validation) {
    const first = error.validation[0];
    const param = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : ((first?.params as { missingProperty?: string })?.missingProperty ?? null);
    return new ApiError(400, `invalid request: ${error.message}`, 'invalid_value', param);
  }
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError(413, `${error.message}; the server's --max-body-bytes limit`, 'body_too_large');
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ApiError(415, `${error.message}; send Content-Type: application/json`, 'unsupported_media_type');
  if (error instanceof BgeGgufError && error.code === 'INVALID_INPUT') return new ApiError(400, error.message, 'invalid_input', 'input');
  if (error instanceof BgeGgufError && error.code === 'CANCELLED') return new ApiError(499, error.message, 'cancelled');
  if (error.statusCode && error.statusCode < 500) return new ApiError(error.statusCode, error.message, error.code?.toLowerCase() ?? null);
  return new ApiError(500, error.message || 'internal error', 'internal_error');
}
