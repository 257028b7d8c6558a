import type { FastifyReply, FastifyRequest } from 'fastify';
import { BgeGgufError } from '../errors.js';
import { ApiError } from './httpError.js';
import type { Metrics } from './metrics.js';
import type { ModelHost } from './modelHost.js';
import { isSmallJob } from './embedJob.js';
import type { EmbedJob, EmbedResult } from './types.js';
import type { WorkQueue } from './workQueue.js';

/** Limits a server enforces (all settable from `bge-gguf serve`). */
export interface ServerLimits {
  /** Largest request body in bytes. */
  maxBodyBytes: number;
  /** Most inputs in one request. */
  maxTexts: number;
  /** Most tokens (after truncation) in one request. */
  maxTokensPerRequest: number;
  /** A request still unanswered after this many ms is cancelled with 503. */
  timeoutMs: number;
  /** Requests the model works on at once. */
  concurrency: number;
  /** Requests waiting beyond those; more get 429. */
  maxQueue: number;
}

/** Small requests the worker holds at once to merge them. */
export const SMALL_IN_FLIGHT = 512;

export const DEFAULT_LIMITS: ServerLimits = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxTexts: 2048,
  maxTokensPerRequest: 2048 * 512,
  timeoutMs: 120_000,
  concurrency: 2,
  maxQueue: 256,
};

/** What every route shares: the model (null while loading), the queue, limits and metrics. */
export interface ServerContext {
  model: ModelHost | null;
  /** Name reported when a request names no model. */
  modelName: string;
  limits: ServerLimits;
  /** Large requests: limits.concurrency at once, limits.maxQueue waiting. */
  queue: WorkQueue;
  /** Small requests (a few short texts): many at once, since the worker merges them into shared encode calls. */
  smallQueue: WorkQueue;
  metrics: Metrics;
  draining: boolean;
  startedAt: number;
  /** Runs a job for a request: queued, cancelled if the client hangs up, timed out after limits.timeoutMs. */
  execute(job: EmbedJob, request: FastifyRequest, reply: FastifyReply): Promise<EmbedResult>;
}

export function requireModel(context: ServerContext): ModelHost {
  if (!context.model) throw new ApiError(503, 'the model is still loading; retry in a moment', 'model_loading', null, { 'retry-after': '2' });
  return context.model;
}

export function executeWith(context: Omit<ServerContext, 'execute'>) {
  return async (job: EmbedJob, _request: FastifyRequest, reply: FastifyReply): Promise<EmbedResult> => {
    const model = requireModel(context as ServerContext);
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new ApiError(503, `the request took longer than this server's ${context.limits.timeoutMs} ms timeout`, 'timeout', null, { 'retry-after': '1' })),
      context.limits.timeoutMs,
    );
    const onClose = () => {
      if (!reply.raw.writableEnded) controller.abort(new BgeGgufError('CANCELLED', 'the client closed the connection'));
    };
    reply.raw.once('close', onClose);
    try {
      const queue = isSmallJob(job) ? context.smallQueue : context.queue;
      const result = await queue.run(() => model.run(job, controller.signal), controller.signal);
      context.metrics.texts.inc(result.count);
      context.metrics.tokens.inc(result.tokens);
      return result;
    } catch (error) {
      throw controller.signal.aborted && controller.signal.reason instanceof ApiError ? controller.signal.reason : error;
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
    }
  };
}
