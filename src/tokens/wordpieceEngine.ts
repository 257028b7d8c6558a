import type { Engine, TokenizeOptions } from '../runtime/types.js';
import { specialTokens } from './truncate.js';
import type { WordPieceTokenizer } from './wordpiece.js';

/**
 * An engine whose tokenize() is the project's HF-exact WordPiece (tokens/wordpiece.ts) instead of
 * llama.cpp's; everything else goes to the engine. [CLS]/[SEP] are the ones llama.cpp adds for
 * this GGUF. Special tokens written in the text are matched unless parseSpecial is false.
 */
export function withWordPieceTokenizer(engine: Engine, tokenizer: WordPieceTokenizer): Engine {
  return {
    get kind() { return engine.kind; },
    get info() { return engine.info; },
    get limits() { return engine.limits; },
    tokenize(text: string, options: TokenizeOptions): Int32Array {
      const content = tokenizer.encode(text, options.maxTokens ?? Infinity, options.parseSpecial !== false);
      if (!options.addSpecial) return Int32Array.from(content);
      const { prefix, suffix } = specialTokens(engine);
      const ids = new Int32Array(prefix.length + content.length + suffix.length);
      ids.set(prefix, 0);
      ids.set(content, prefix.length);
      ids.set(suffix, prefix.length + content.length);
      return ids;
    },
    detokenize: (tokens) => engine.detokenize(tokens),
    encodeBatch: (sequences, pooling, signal) => engine.encodeBatch(sequences, pooling, signal),
    ...(engine.applyLinear ? { applyLinear: engine.applyLinear.bind(engine) } : {}),
    dispose: () => engine.dispose(),
  };
}
