/**
 * Where llama.cpp's WordPiece tokenizer (llm_tokenizer_wpm in src/llama-vocab.cpp) cannot give the
 * Hugging Face BertTokenizer's ids, whatever the GGUF holds. Found by comparing both on the parity
 * texts; each rule here is checked against the text alone, not against either tokenizer's output.
 *
 * - decomposition: llama.cpp's NFD table keeps only the first code point of a character's
 *   decomposition, so Hangul syllables (세 → ᄉ ᅦ) lose their vowel and final jamo; HF keeps them.
 * - spacing-mark: llama.cpp strips every \p{M} when it strips accents; HF strips only \p{Mn},
 *   so spacing marks (\p{Mc}, e.g. Devanagari vowel signs) and enclosing marks (\p{Me}) differ.
 * - long-word: HF maps a word of more than 100 characters to [UNK] (max_input_chars_per_word);
 *   llama.cpp splits it into pieces.
 * - special-text: HF matches "[CLS]", "[SEP]", … written in the text as special tokens; llama.cpp
 *   only does when tokenizing with parse_special.
 */

/** A character whose canonical decomposition has more than one code point, not all of the rest \p{Mn}. */
function decomposesBeyondMarks(ch) {
  const parts = [...ch.normalize('NFD')];
  return parts.length > 1 && parts.slice(1).some((p) => !/\p{Mn}/u.test(p));
}

/** The reasons llama.cpp's ids may differ from the HF tokenizer's for this text ([] = must match). */
export function knownWpmDifferences(text, { parseSpecial = false } = {}) {
  const reasons = [];
  if ([...text].some(decomposesBeyondMarks)) reasons.push('decomposition');
  if (/[\p{Mc}\p{Me}]/u.test(text.normalize('NFD'))) reasons.push('spacing-mark');
  // HF's BertPreTokenizer splits on whitespace, \p{P} and ASCII symbols before WordPiece.
  if (text.split(/[\s\p{P}!-\/:-@[-`{-~]+/u).some((w) => [...w].length > 100)) reasons.push('long-word');
  if (!parseSpecial && /\[(CLS|SEP|PAD|UNK|MASK)\]/.test(text)) reasons.push('special-text');
  return reasons;
}
