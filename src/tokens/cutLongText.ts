/**
 * Cuts a very long text before tokenization when a token budget makes its tail irrelevant, without
 * changing the first `budget` tokens. The cut goes just before a space that follows an ASCII letter
 * or digit. No token can span that point when no vocabulary piece has a space marker ("▁", "Ġ" or
 * " ") right after an ASCII letter or digit (checked once per vocabulary): SentencePiece merges and
 * BPE pre-tokenization never join across it. Each token covers at most `maxPieceLength` UTF-16 units
 * of text (a byte-fallback token less than one character; SentencePiece's "▁" prefix adds one), so
 * a cut beyond budget × maxPieceLength + 1 keeps the first `budget` tokens intact.
 */
const INNER_SPACE = /[A-Za-z0-9][▁Ġ ]/;
const BOUNDARY = /[A-Za-z0-9] /g;

export interface CutRule {
  /** Longest vocabulary piece in UTF-16 units. */
  maxPieceLength: number;
}

/** The rule for a vocabulary, or null when some piece crosses the boundaries this cut relies on. */
export function cutRuleFor(pieces: readonly string[]): CutRule | null {
  let maxPieceLength = 1;
  for (const piece of pieces) {
    if (INNER_SPACE.test(piece)) return null;
    if (piece.length > maxPieceLength) maxPieceLength = piece.length;
  }
  return { maxPieceLength };
}

/** `text`, or a prefix of it whose first `budget` tokens are those of `text`. */
export function cutForBudget(text: string, budget: number, rule: CutRule | null): string {
  if (rule === null) return text;
  const from = budget * rule.maxPieceLength + 2;
  if (text.length <= from + 1) return text;
  BOUNDARY.lastIndex = from - 1;
  const match = BOUNDARY.exec(text);
  return match ? text.slice(0, match.index + 1) : text;
}
