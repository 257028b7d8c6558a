import { InvalidInputError } from '../errors.js';
import type { Engine } from '../runtime/types.js';

const specialsCache = new WeakMap<Engine, { prefix: number[]; suffix: number[] }>();

/**
 * The special tokens the model wraps every sequence in ([CLS] … [SEP], or <s> … </s>).
 * Found by tokenizing a probe with and without specials, so it follows llama.cpp's own
 * rules for each vocabulary type instead of re-deriving them from metadata flags.
 */
export function specialTokens(engine: Engine): { prefix: number[]; suffix: number[] } {
  let cached = specialsCache.get(engine);
  if (!cached) {
    const plain = Array.from(engine.tokenize('a', { addSpecial: false }));
    const full = Array.from(engine.tokenize('a', { addSpecial: true }));
    let start = 0;
    while (start + plain.length <= full.length && plain.some((id, i) => full[start + i] !== id)) start++;
    if (start + plain.length > full.length) start = 0; // cannot locate the probe: assume no prefix
    cached = { prefix: full.slice(0, start), suffix: full.slice(start + plain.length) };
    specialsCache.set(engine, cached);
  }
  return cached;
}

export function assertText(text: unknown, where: string): asserts text is string {
  if (typeof text !== 'string') {
    throw new InvalidInputError(`${where}: expected a string, got ${text === null ? 'null' : typeof text}`);
  }
}

/**
 * Tokenizes a text the way FlagEmbedding's tokenizer call does with truncation=True:
 * the content is cut so that content + special tokens fit in maxLength. Long text is never an error.
 */
export function tokenizeTruncated(engine: Engine, text: string, maxLength: number): Int32Array {
  const { prefix, suffix } = specialTokens(engine);
  const room = maxLength - prefix.length - suffix.length;
  const content = engine.tokenize(text, { addSpecial: false, maxTokens: room });
  const kept = content.length > room ? content.subarray(0, room) : content;
  const ids = new Int32Array(prefix.length + kept.length + suffix.length);
  ids.set(prefix, 0);
  ids.set(kept, prefix.length);
  ids.set(suffix, prefix.length + kept.length);
  return ids;
}

/** Checks a max-length option against what the model can take. */
export function checkMaxLength(name: string, value: number, engine: Engine): number {
  const { prefix, suffix } = specialTokens(engine);
  const min = prefix.length + suffix.length + 1;
  const max = engine.info.trainContextLength;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidInputError(
      `${name} must be an integer from ${min} to ${max} (the model's context length), got ${value}`,
    );
  }
  return value;
}
