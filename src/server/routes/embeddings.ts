import type { FastifyInstance } from 'fastify';
import { requireModel, type ServerContext } from '../context.js';
import { ApiError } from '../httpError.js';
import { embeddingsBodySchema, type EmbeddingsBody } from '../types.js';

/** POST /v1/embeddings, as OpenAI's: input string | string[] | number[] | number[][], float or base64, dimensions, usage. */
export function embeddingsRoute(app: FastifyInstance, context: ServerContext): void {
  app.post<{ Body: EmbeddingsBody }>('/v1/embeddings', { schema: { body: embeddingsBodySchema } }, async (request, reply) => {
    const body = request.body;
    const model = requireModel(context);
    const input = parseInput(body.input, context.limits.maxTexts, model.info.vocabSize);
    const dimensions = checkDimensions(body.dimensions, model.info.dimension);
    const result = await context.execute(
      {
        op: 'embed',
        kind: body.input_type === 'query' ? 'queries' : 'corpus',
        ...input,
        dimensions,
        shape: 'openai',
        format: body.encoding_format ?? 'float',
        maxTokens: context.limits.maxTokensPerRequest,
      },
      request,
      reply,
    );
    const usage = JSON.stringify({ prompt_tokens: result.tokens, total_tokens: result.tokens });
    reply.type('application/json; charset=utf-8');
    return `{"object":"list","data":${result.dataJson},"model":${JSON.stringify(body.model ?? context.modelName)},"usage":${usage}}`;
  });
}

/** OpenAI's `dimensions`: 1 to the model's size; the vectors keep the first N values, renormalized. */
export function checkDimensions(value: number | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ApiError(400, `dimensions must be an integer from 1 to ${max} (this model's size), got ${value}`, 'invalid_value', 'dimensions');
  }
  return value === max ? undefined : value;
}

function parseInput(input: unknown, maxTexts: number, vocabSize: number): { texts: string[] } | { ids: number[][] } {
  const bad = (message: string) => new ApiError(400, message, 'invalid_input', 'input');
  if (typeof input === 'string') {
    if (input === '') throw bad("input is an empty string; send at least one character");
    return { texts: [input] };
  }
  if (!Array.isArray(input)) throw bad('input must be a string, an array of strings, an array of token ids or an array of token-id arrays');
  if (input.length === 0) throw bad('input is an empty array; send at least one text');
  if (input.every((x) => typeof x === 'number')) return { ids: [checkIds(input, 'input', vocabSize)] };
  if (input.length > maxTexts) throw bad(`input has ${input.length} items, more than this server's limit of ${maxTexts} per request`);
  if (input.every((x) => typeof x === 'string')) {
    const empty = input.findIndex((x) => x === '');
    if (empty !== -1) throw bad(`input[${empty}] is an empty string; send at least one character`);
    return { texts: input as string[] };
  }
  if (input.every((x) => Array.isArray(x))) return { ids: input.map((ids, i) => checkIds(ids as unknown[], `input[${i}]`, vocabSize)) };
  throw bad('input mixes types: send all strings, or all token-id arrays');
}

function checkIds(ids: unknown[], where: string, vocabSize: number): number[] {
  if (ids.length === 0) throw new ApiError(400, `${where} is an empty token list`, 'invalid_input', 'input');
  const at = ids.findIndex((id) => typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize);
  if (at !== -1) throw new ApiError(400, `${where}[${at}] = ${JSON.stringify(ids[at])} is not a token id of this model (0 to ${vocabSize - 1})`, 'invalid_input', 'input');
  return ids as number[];
}
