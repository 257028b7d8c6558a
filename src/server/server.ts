import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BgeGgufError } from '../errors.js';
import type { FlagICLModel } from '../api/FlagICLModel.js';
import type { FlagLLMModel } from '../api/FlagLLMModel.js';
import type { FlagModel } from '../api/FlagModel.js';

export interface ServerOptions {
  /** Largest request body in bytes (default 8 MiB). */
  maxBodyBytes?: number;
  /** Most texts in one request (default 2048). */
  maxTexts?: number;
  /** Name reported in responses. */
  modelName?: string;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * HTTP front for one loaded model:
 *  GET  /health
 *  POST /embed          {texts: string | string[], type?: "query" | "passage"} → {embeddings}
 *  POST /v1/embeddings  OpenAI-compatible {input: string | string[]} → {data: [{embedding, index}]}
 * Bad requests get a 4xx JSON error; nothing a client sends can take the process down.
 */
export function createEmbeddingServer(model: FlagModel | FlagICLModel | FlagLLMModel, options: ServerOptions = {}): Server {
  const maxBodyBytes = options.maxBodyBytes ?? 8 * 1024 * 1024;
  const maxTexts = options.maxTexts ?? 2048;
  const modelName = options.modelName ?? 'bge-gguf';

  const embed = async (input: unknown, type: unknown) => {
    const texts = Array.isArray(input) ? input : [input];
    if (texts.length === 0 || texts.length > maxTexts) throw new HttpError(400, `send 1 to ${maxTexts} texts, got ${texts.length}`);
    if (texts.some((t) => typeof t !== 'string')) throw new HttpError(400, 'every input must be a string');
    if (type !== undefined && type !== 'query' && type !== 'passage') throw new HttpError(400, 'type must be "query" or "passage"');
    return type === 'query' ? model.encodeQueries(texts as string[]) : model.encodeCorpus(texts as string[]);
  };

  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => sendError(res, error));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health') {
      if (req.method !== 'GET') throw new HttpError(405, 'use GET');
      return send(res, 200, { status: 'ok', model: modelName, dimension: model.dimension, engine: model.engineKind });
    }
    if (path !== '/embed' && path !== '/v1/embeddings') throw new HttpError(404, `no route ${path}; try POST /embed or POST /v1/embeddings`);
    if (req.method !== 'POST') throw new HttpError(405, 'use POST with a JSON body');
    const body = await readJson(req, maxBodyBytes);
    if (path === '/embed') {
      const vectors = await embed(body.texts, body.type);
      return send(res, 200, { model: modelName, embeddings: vectors.map((v) => Array.from(v)) });
    }
    const vectors = await embed(body.input, undefined);
    return send(res, 200, {
      object: 'list',
      model: modelName,
      data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: Array.from(v) })),
    });
  }
}

async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, error: unknown): void {
  const status = error instanceof HttpError ? error.status : error instanceof BgeGgufError && error.code === 'INVALID_INPUT' ? 400 : 500;
  const code = error instanceof BgeGgufError ? error.code : undefined;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(res, status, { error: { message: (error as Error).message ?? String(error), ...(code ? { code } : {}) } });
}
