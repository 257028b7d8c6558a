import { BgeGgufError, InvalidInputError } from '../errors.js';

/**
 * Runs the processing of one caller text so that whatever goes wrong surfaces as a typed error:
 * a RangeError (call stack, string or array length limits) becomes INVALID_INPUT naming the
 * text, instead of an untyped crash deep in a tokenizer.
 */
export function typedTextFailure<T>(where: string, text: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof BgeGgufError || !(error instanceof RangeError)) throw error;
    throw new InvalidInputError(`${where}: a text of ${text.length} characters could not be processed (${error.message}); split it into shorter texts`);
  }
}
