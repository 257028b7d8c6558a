import { BgeGgufError } from '../errors.js';
import type { ErrorBody } from './types.js';

/** An error answered with OpenAI's {error: {message, type, param, code}} body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get type(): string {
    if (this.status === 401) return 'authentication_error';
    if (this.status === 429) return 'rate_limit_error';
    if (this.status >= 500) return 'server_error';
    return 'invalid_request_error';
  }

  body(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** A plain copy of an error that crosses the worker boundary. */
export interface WireError {
  message: string;
  status?: number;
  code?: string | null;
  param?: string | null;
  libraryCode?: string;
}

export function toWire(error: unknown): WireError {
  if (error instanceof ApiError) return { message: error.message, status: error.status, code: error.code, param: error.param };
  if (error instanceof BgeGgufError) return { message: error.message, libraryCode: error.code };
  return { message: (error as Error)?.message ?? String(error) };
}

/** Any error → the ApiError the client sees (library input errors are 400, the rest 500). */
export function fromWire(wire: WireError): ApiError {
  if (wire.status) return new ApiError(wire.status, wire.message, wire.code ?? null, wire.param ?? null);
  if (wire.libraryCode === 'INVALID_INPUT') return new ApiError(400, wire.message, 'invalid_input', 'input');
  if (wire.libraryCode === 'CANCELLED') return new ApiError(499, wire.message, 'cancelled');
  return new ApiError(500, wire.message, wire.libraryCode?.toLowerCase() ?? 'internal_error');
}
