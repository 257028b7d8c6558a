import { InvalidInputError } from '../errors.js';

/**
 * Token-id inputs → the sequences the engine embeds: each list is one text's content; the model's
 * leading and trailing special tokens are added unless already there, and content longer than
 * maxLength - specials is cut, as text truncation does.
 */
export function tokenIdSequences(
  lists: ArrayLike<number>[],
  layout: { prefix: number[]; suffix: number[]; maxLength: number; vocabSize: number },
): Int32Array[] {
  if (!Array.isArray(lists)) throw new InvalidInputError('encodeTokenIds: expected an array of token-id arrays');
  const { prefix, suffix, maxLength, vocabSize } = layout;
  return lists.map((list, i) => {
    if (list === null || typeof list !== 'object' || typeof list.length !== 'number') {
      throw new InvalidInputError(`encodeTokenIds: item ${i} is not an array of token ids`);
    }
    const ids = Array.from(list);
    if (ids.length === 0) throw new InvalidInputError(`encodeTokenIds: item ${i} is empty`);
    ids.forEach((id, k) => {
      if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
        throw new InvalidInputError(`encodeTokenIds: item ${i}, position ${k}: ${String(id)} is not a token id of this model (0 to ${vocabSize - 1})`);
      }
    });
    const starts = prefix.length > 0 && prefix.every((id, k) => ids[k] === id);
    const ends = suffix.length > 0 && ids.length >= suffix.length + (starts ? prefix.length : 0) && suffix.every((id, k) => ids[ids.length - suffix.length + k] === id);
    let content = ids.slice(starts ? prefix.length : 0, ends ? ids.length - suffix.length : ids.length);
    const room = maxLength - prefix.length - suffix.length;
    if (content.length > room) content = content.slice(0, room);
    return Int32Array.from([...prefix, ...content, ...suffix]);
  });
}
