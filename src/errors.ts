/** Every error the library throws on purpose is a BgeGgufError with a stable `code`. */
export type BgeGgufErrorCode =
  | 'INVALID_INPUT' // a text, option or token array the caller passed is unusable
  | 'MODEL_NOT_FOUND' // path / URI / registry name does not resolve to a file
  | 'MODEL_LOAD_FAILED' // llama.cpp could not load the GGUF
  | 'UNSUPPORTED_MODEL' // the GGUF's architecture or pooling is not one we can embed with
  | 'NETWORK' // an hf: download failed (offline, 404, ...)
  | 'DISPOSED' // the model or context was used after dispose()
  | 'ENCODE_FAILED' // llama.cpp returned an error while decoding
  | 'CANCELLED' // an AbortSignal fired
  | 'NATIVE_UNAVAILABLE' // the native addon is not built / not loadable
  | 'OUT_OF_MEMORY' // a setting (batchTokens) needs more memory than the machine has, by an estimate made before allocating
  | 'NON_FINITE_OUTPUT' // the model produced NaN or Infinity for a text (broken weights)
  | 'CORRUPT_MODEL'; // the GGUF's hyper-parameters, tokenizer metadata or tensor infos are inconsistent

export class BgeGgufError extends Error {
  readonly code: BgeGgufErrorCode;
  constructor(code: BgeGgufErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BgeGgufError';
    this.code = code;
  }
}

export class InvalidInputError extends BgeGgufError {
  constructor(message: string) {
    super('INVALID_INPUT', message);
    this.name = 'InvalidInputError';
  }
}

export class ModelNotFoundError extends BgeGgufError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_NOT_FOUND', message, options);
    this.name = 'ModelNotFoundError';
  }
}

export class DisposedError extends BgeGgufError {
  constructor(what: string) {
    super('DISPOSED', `${what} has been disposed; load it again to keep encoding`);
    this.name = 'DisposedError';
  }
}

/** A GGUF whose metadata or tensor infos would make llama.cpp abort; `field` names the offending key or tensor. */
export class CorruptModelError extends BgeGgufError {
  readonly field: string;
  constructor(path: string, field: string, problem: string) {
    super('CORRUPT_MODEL', `${path} is a corrupt GGUF: ${field} ${problem}. Re-download or re-convert the model.`);
    this.name = 'CorruptModelError';
    this.field = field;
  }
}
