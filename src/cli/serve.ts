/**
 * `bge-gguf serve`: the HTTP server. An embedder answers OpenAI /v1/embeddings and /embed, a reranker
 * GGUF (rank pooling / classifier head) /v1/rerank; /v1/models, /health, /ready, /metrics always.
 */
import { isIP } from 'node:net';
import { Command } from 'commander';
import { buildApp } from '../server/app.js';
import { DEFAULT_LIMITS, type ServerLimits } from '../server/context.js';
import { ModelHost } from '../server/modelHost.js';
import { modelName } from './loadModel.js';
import { addModelOptions, integer, modelSpec } from './options.js';

interface ServeOptions extends ServerLimits {
  port: number;
  host: string;
  apiKey?: string;
  cors?: true | string;
  modelName?: string;
  logLevel: string;
  model?: string;
  pooling?: 'cls' | 'mean';
  threads?: number;
  batchSize?: number;
  cpu?: boolean;
}

export function serveCommand(): Command {
  const command = new Command('serve')
    .description('serve the model over HTTP: POST /v1/embeddings (OpenAI) and POST /embed for an embedder, POST /v1/rerank for a reranker GGUF; GET /v1/models, /health, /ready, /metrics')
    .option('-p, --port <port>', 'TCP port (0: any free port)', integer(0), 8080)
    .option('--host <host>', 'address to bind; anything but loopback should have --api-key', '127.0.0.1')
    .option('--api-key <key>', 'require Authorization: Bearer <key> (env BGE_GGUF_API_KEY)', process.env.BGE_GGUF_API_KEY)
    .option('--cors [origins]', 'send CORS headers: for any origin, or a comma-separated list of origins')
    .option('--max-body-bytes <n>', 'largest request body', integer(), DEFAULT_LIMITS.maxBodyBytes)
    .option('--max-texts <n>', 'most inputs in one request', integer(), DEFAULT_LIMITS.maxTexts)
    .option('--max-tokens-per-request <n>', 'most tokens (after truncation) in one request', integer(), DEFAULT_LIMITS.maxTokensPerRequest)
    .option('--timeout-ms <n>', 'cancel a request unanswered after this long (503)', integer(), DEFAULT_LIMITS.timeoutMs)
    .option('--concurrency <n>', 'requests the model works on at once', integer(), DEFAULT_LIMITS.concurrency)
    .option('--max-queue <n>', 'requests waiting beyond those; more get 429 + Retry-After', integer(0), DEFAULT_LIMITS.maxQueue)
    .option('--model-name <name>', 'the model name reported in /v1/models and responses (default: --model or the embedded model)')
    .option('--log-level <level>', 'fastify/pino log level on stderr (info logs every request)', 'warn');
  return addModelOptions(command).action(async (options: ServeOptions) => {
    const spec = modelSpec(options);
    const name = options.modelName ?? modelName(spec);
    if (!isLoopback(options.host) && !options.apiKey) {
      console.error(`bge-gguf: warning: serving on ${options.host} without --api-key: anyone who can reach this address can use the server`);
    }
    const { app, context } = await buildApp({
      model: null,
      modelName: name,
      apiKey: options.apiKey,
      cors: options.cors === undefined ? undefined : options.cors === true ? true : options.cors.split(',').map((o) => o.trim()),
      limits: {
        maxBodyBytes: options.maxBodyBytes,
        maxTexts: options.maxTexts,
        maxTokensPerRequest: options.maxTokensPerRequest,
        timeoutMs: options.timeoutMs,
        concurrency: options.concurrency,
        maxQueue: options.maxQueue,
      },
      logger: { level: options.logLevel, stream: process.stderr },
    });
    let address: string;
    try {
      address = await app.listen({ port: options.port, host: options.host });
    } catch (error) {
      throw new Error(listenMessage(error as NodeJS.ErrnoException, options.host, options.port));
    }
    let model: ModelHost;
    try {
      model = await ModelHost.start(spec, name);
    } catch (error) {
      await app.close();
      throw error;
    }
    context.model = model;
    const what = model.info.task === 'rerank' ? `reranker, ${model.info.engine}` : `${model.info.dimension} dimensions, ${model.info.engine}`;
    const routes = model.info.task === 'rerank' ? 'POST /v1/rerank' : 'POST /v1/embeddings, POST /embed';
    console.log(`bge-gguf: serving ${name} (${what}) on ${address} — ${routes}, GET /v1/models, /health, /ready, /metrics`);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      context.draining = true;
      console.error(`bge-gguf: ${signal}: finishing ${context.queue.active + context.queue.depth + context.smallQueue.active + context.smallQueue.depth} requests in flight, then exiting`);
      setTimeout(() => process.exit(1), options.timeoutMs + 5000).unref();
      await app.close(); // stops accepting, waits for in-flight requests
      await model.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

function listenMessage(error: NodeJS.ErrnoException, host: string, port: number): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use (another bge-gguf or server?); pick another with --port, or --port 0 for any free one`;
    case 'EACCES':
      return `not allowed to bind port ${port} on ${host} (ports below 1024 need privileges); use a port above 1024`;
    case 'EADDRNOTAVAIL':
      return `cannot bind ${host}: it is not an address of this machine; use 127.0.0.1 (local only) or 0.0.0.0 (all interfaces)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot bind ${host}: the host name does not resolve; use an IP address such as 127.0.0.1 or 0.0.0.0`;
    default:
      return `cannot listen on ${host}:${port}: ${error.message}`;
  }
}
