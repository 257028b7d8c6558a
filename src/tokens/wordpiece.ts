import type { Engine, TokenizeOptions } from '../runtime/types.js';
import { specialTokens } from './truncate.js';

/** HF WordPiece's max_input_chars_per_word: a longer word becomes [UNK]. */
const MAX_WORD_CHARS = 100;

// BERT's BasicTokenizer word boundaries: whitespace, ASCII punctuation/symbols, Unicode P*,
// and CJK ideographs (each is a word of its own).
const BOUNDARY = String.raw`\s!-\/:-@\[-\x60{-~\p{P}\u{3400}-\u{4DBF}\u{4E00}-\u{9FFF}\u{F900}-\u{FAFF}\u{20000}-\u{2FA1F}`;
const LONG_WORD = new RegExp(`[^${BOUNDARY}]{${MAX_WORD_CHARS + 1},}`, 'gu');

/**
 * What Hugging Face's BertNormalizer does before WordPiece and llama.cpp's WPM tokenizer
 * does not: Unicode NFD (it decomposes Hangul syllables into jamo) and accent stripping.
 */
export function bertNormalize(text: string): string {
  return text.normalize('NFD').replace(/\p{Mn}/gu, '');
}

/**
 * Wraps an engine whose GGUF carries a BERT WordPiece vocabulary so its token ids equal the
 * checkpoint's tokenizer.json (the tokenizer FlagEmbedding uses): normalize as HF does, and
 * turn words over 100 characters into [UNK] instead of splitting them.
 */
export function withHfWordPieceRules(engine: Engine, unkId: number): Engine {
  // HF matches special tokens written in the text ("[SEP]") before normalizing; so does parse_special.
  const tokenizeContent = (text: string, parseSpecial = true): number[] => {
    const normalized = bertNormalize(text);
    const ids: number[] = [];
    let last = 0;
    for (const match of normalized.matchAll(LONG_WORD)) {
      const at = match.index ?? 0;
      if (at > last) ids.push(...engine.tokenize(normalized.slice(last, at), { addSpecial: false, parseSpecial }));
      ids.push(unkId);
      last = at + match[0].length;
    }
    if (last < normalized.length) ids.push(...engine.tokenize(normalized.slice(last), { addSpecial: false, parseSpecial }));
    return ids;
  };
  return {
    get kind() { return engine.kind; },
    get info() { return engine.info; },
    get limits() { return engine.limits; },
    tokenize(text: string, options: TokenizeOptions): Int32Array {
      const content = tokenizeContent(text, options.parseSpecial);
      if (!options.addSpecial) return Int32Array.from(content);
      const { prefix, suffix } = specialTokens(engine);
      return Int32Array.from([...prefix, ...content, ...suffix]);
    },
    detokenize: (tokens) => engine.detokenize(tokens),
    encodeBatch: (sequences, pooling, signal) => engine.encodeBatch(sequences, pooling, signal),
    ...(engine.applyLinear ? { applyLinear: engine.applyLinear.bind(engine) } : {}),
    dispose: () => engine.dispose(),
  };
}
