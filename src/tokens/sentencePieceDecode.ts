/**
 * Hugging Face's decode for SentencePiece (Llama/Mistral-style) vocabularies, as `batch_decode` runs
 * it with default options: every id becomes its piece (special tokens kept as their text), then the
 * tokenizer.json decoder chain Replace("▁" → " ") → ByteFallback → Fuse → Strip(one leading " ").
 * ByteFallback turns a run of consecutive byte pieces (<0xNN>) into text when the run is valid UTF-8,
 * and into one U+FFFD per byte when it is not — unlike a UTF-8 decoder, which would keep the valid
 * characters of the run. clean_up_tokenization_spaces is off (the Llama/Mistral tokenizers' setting).
 */
const BYTE_PIECE = /^<0x([0-9A-Fa-f]{2})>$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export type IdsDecoder = (ids: ArrayLike<number>) => string;

export function sentencePieceDecoder(pieces: readonly string[]): IdsDecoder {
  const bytes = pieces.map((piece) => {
    const match = BYTE_PIECE.exec(piece);
    return match ? parseInt(match[1], 16) : -1;
  });
  const text = pieces.map((piece) => piece.split('▁').join(' '));
  return (ids) => {
    const parts: string[] = [];
    let run: number[] = [];
    const flush = () => {
      if (run.length === 0) return;
      try {
        parts.push(utf8.decode(Uint8Array.from(run)));
      } catch {
        parts.push('\uFFFD'.repeat(run.length));
      }
      run = [];
    };
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (bytes[id] === undefined) throw new RangeError(`token id ${id} is outside the vocabulary`);
      if (bytes[id] >= 0) {
        run.push(bytes[id]);
      } else {
        flush();
        parts.push(text[id]);
      }
    }
    flush();
    const joined = parts.join('');
    return joined.startsWith(' ') ? joined.slice(1) : joined;
  };
}
