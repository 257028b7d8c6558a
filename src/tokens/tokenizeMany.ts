import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { BgeGgufError } from '../errors.js';

/**
 * Maps texts to token arrays in chunks, yielding to the event loop between chunks so a
 * large encode call never stalls a server or UI thread on tokenization.
 */
export async function tokenizeMany(texts: readonly string[], tokenize: (text: string) => Int32Array, chunkSize = 128, signal?: AbortSignal): Promise<Int32Array[]> {
  const out: Int32Array[] = [];
  for (let start = 0; start < texts.length; start += chunkSize) {
    if (start > 0) await yieldToEventLoop();
    // an aborted encode stops tokenizing too (a client that hung up on a large request frees the CPU at once)
    if (signal?.aborted) throw new BgeGgufError('CANCELLED', 'encoding was cancelled by its AbortSignal');
    for (const text of texts.slice(start, start + chunkSize)) out.push(tokenize(text));
  }
  return out;
}
