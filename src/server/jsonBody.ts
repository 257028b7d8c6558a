import type { FastifyInstance } from 'fastify';
import type { Worker } from 'node:worker_threads';
import { ApiError } from './httpError.js';
import { spawnWorker } from './spawnWorker.js';

/** Bodies from this size on are parsed in a worker: JSON.parse of 8 MB takes tens of ms, too long for /health. */
const OFF_THREAD_BYTES = 256 * 1024;

/**
 * JSON bodies: small ones parsed in place, large ones in a worker thread (the bytes are transferred,
 * not copied; the parsed strings come back as one structured clone). Invalid JSON is a 400.
 */
export function registerJsonBodies(app: FastifyInstance): void {
  let worker: Worker | null = null;
  let nextId = 1;
  const waiting = new Map<number, (result: { value?: unknown; error?: string }) => void>();
  const parseOffThread = (body: Buffer) =>
    new Promise<{ value?: unknown; error?: string }>((resolve) => {
      if (!worker) {
        worker = spawnWorker('jsonWorker');
        worker.unref();
        worker.on('message', (m: { id: number; value?: unknown; error?: string }) => {
          waiting.get(m.id)?.(m);
          waiting.delete(m.id);
        });
      }
      const id = nextId++;
      waiting.set(id, resolve);
      const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
      // a pooled small Buffer shares its ArrayBuffer: only a whole-buffer body can be transferred
      const whole = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
      worker.postMessage({ id, bytes }, whole ? [body.buffer as ArrayBuffer] : []);
    });
  const invalid = (message: string) => new ApiError(400, `the body is not valid JSON: ${message}`, 'invalid_json');

  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) return done(invalid('it is empty'), undefined);
    if (bytes.length < OFF_THREAD_BYTES) {
      try {
        return done(null, JSON.parse(bytes.toString('utf8')));
      } catch (error) {
        return done(invalid((error as Error).message), undefined);
      }
    }
    parseOffThread(bytes).then((result) => (result.error !== undefined ? done(invalid(result.error), undefined) : done(null, result.value)));
  });
  app.addHook('onClose', async () => {
    await (worker as Worker | null)?.terminate();
  });
}
