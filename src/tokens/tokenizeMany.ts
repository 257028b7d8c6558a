import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/**
 * Maps texts to token arrays in chunks, yielding to the event loop between chunks so a
 * large encode call never stalls a server or UI thread on tokenization.
 */
export async function tokenizeMany(texts: readonly string[], tokenize: (text: string) => Int32Array, chunkSize = 128): Promise<Int32Array[]> {
  const out: Int32Array[] = [];
  for (let start = 0; start < texts.length; start += chunkSize) {
    if (start > 0) await yieldToEventLoop();
    for (const text of texts.slice(start, start + chunkSize)) out.push(tokenize(text));
  }
  return out;
}
