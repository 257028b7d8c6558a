import { endianness } from 'node:os';
import type { EncodeProgress } from '../api/options.js';
import { embedOutputs, m3OutputsUnavailable, type EmbedModel, type EmbedOutputs } from '../api/embedOutputs.js';
import { l2NormalizeInPlace } from '../vectors/normalize.js';
import { ApiError } from './httpError.js';
import type { EmbedJob, EmbedResult, ServerJob } from './types.js';

/** Runs one embedding request on the model (inside the worker) and serializes its data array. */
export async function runEmbedJob(model: EmbedModel, job: EmbedJob, signal: AbortSignal): Promise<EmbedResult> {
  const unavailable = m3OutputsUnavailable(model, job);
  if (unavailable) throw new ApiError(400, unavailable.message, 'unsupported_output', job.sparse ? 'return_sparse' : 'return_colbert');
  const controller = new AbortController();
  const stop = () => controller.abort(signal.reason);
  if (signal.aborted) stop();
  signal.addEventListener('abort', stop, { once: true });
  let tokens = 0;
  let overLimit: ApiError | null = null;
  const onProgress = (progress: EncodeProgress) => {
    tokens = progress.totalTokens;
    if (progress.done === 0 && progress.totalTokens > job.maxTokens) {
      overLimit = tooManyTokens(progress.totalTokens, job.maxTokens);
      controller.abort(overLimit);
    }
  };
  const options = { signal: controller.signal, onProgress };
  let outputs: EmbedOutputs;
  try {
    if (job.ids) outputs = { dense: await model.encodeTokenIds(job.ids, options) };
    else outputs = await embedOutputs(model, job.texts ?? [], { kind: job.kind, sparse: job.sparse, colbert: job.colbert, ...options });
  } catch (error) {
    throw overLimit ?? error;
  } finally {
    signal.removeEventListener('abort', stop);
  }
  return serializeResult(job, outputs, tokens);
}

/** Small dense jobs (a few short texts) are merged with others into one encode call by the worker. */
export function isSmallJob(job: ServerJob): job is EmbedJob & { texts: string[] } {
  if (job.op !== 'embed' || !job.texts || job.texts.length > 64 || job.sparse || job.colbert) return false;
  let chars = 0;
  for (const text of job.texts) chars += text.length;
  return chars <= 32_768;
}

export function tooManyTokens(tokens: number, max: number): ApiError {
  return new ApiError(400, `the request has ${tokens} tokens after truncation, more than this server's limit of ${max} per request; send fewer or shorter inputs`, 'too_many_tokens', 'input');
}

/** Applies `dimensions` and serializes the data array (float or base64, OpenAI's or the plain shape), and the M3 outputs. */
export function serializeResult(job: EmbedJob, outputs: EmbedOutputs, tokens: number): EmbedResult {
  let vectors = outputs.dense;
  if (job.dimensions !== undefined) vectors = vectors.map((v) => (job.dimensions! < v.length ? l2NormalizeInPlace(v.slice(0, job.dimensions)) : v));
  const encoded = vectors.map((v) => (job.format === 'base64' ? JSON.stringify(littleEndianBase64(v)) : JSON.stringify(Array.from(v))));
  const dataJson =
    job.shape === 'openai' ? `[${encoded.map((e, index) => `{"object":"embedding","index":${index},"embedding":${e}}`).join(',')}]` : `[${encoded.join(',')}]`;
  return {
    dataJson,
    count: vectors.length,
    tokens,
    ...(outputs.lexicalWeights ? { lexicalJson: JSON.stringify(outputs.lexicalWeights) } : {}),
    ...(outputs.colbertVecs ? { colbertJson: `[${outputs.colbertVecs.map((rows) => JSON.stringify(rows.map((v) => Array.from(v)))).join(',')}]` } : {}),
  };
}

/** OpenAI's base64 encoding: the float32 values as little-endian bytes. */
export function littleEndianBase64(vector: Float32Array): string {
  if (endianness() === 'LE') return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((x, i) => bytes.writeFloatLE(x, i * 4));
  return bytes.toString('base64');
}
