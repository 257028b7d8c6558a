/**
 * Hugging Face's pair encoding for XLM-RoBERTa, transcribed from transformers' definitions (not
 * from src/): PreTrainedTokenizerBase.__call__(text, add_special_tokens=False, truncation=True,
 * max_length=n) keeps the first n ids; prepare_for_model(ids, pair_ids, truncation='only_second',
 * max_length=m) counts num_special_tokens_to_add(pair=True) (4: <s> A </s></s> B </s>), and when the
 * total exceeds m calls truncate_sequences, whose ONLY_SECOND branch removes the excess from the
 * end of pair_ids only when len(pair_ids) > num_tokens_to_remove (else it logs an error and keeps
 * both whole); then build_inputs_with_special_tokens.
 */
export interface XlmrSpecials {
  cls: number; // <s>
  sep: number; // </s>
}

export function hfTruncatedCall(ids: readonly number[], maxLength: number): number[] {
  return ids.length > maxLength ? ids.slice(0, maxLength) : ids.slice();
}

function truncateOnlySecond(ids: number[], pairIds: number[], numTokensToRemove: number): [number[], number[]] {
  if (numTokensToRemove <= 0) return [ids, pairIds];
  if (pairIds.length > numTokensToRemove) return [ids, pairIds.slice(0, pairIds.length - numTokensToRemove)];
  return [ids, pairIds]; // HF: logger.error("We need to remove ... but the second sequence has a length ...")
}

export function hfPrepareForModelPair(ids: number[], pairIds: number[], specials: XlmrSpecials, maxLength: number): number[] {
  const numSpecial = 4;
  const totalLen = ids.length + pairIds.length + numSpecial;
  let [a, b] = [ids, pairIds];
  if (totalLen > maxLength) [a, b] = truncateOnlySecond(a, b, totalLen - maxLength);
  return [specials.cls, ...a, specials.sep, specials.sep, ...b, specials.sep];
}

/** FlagReranker.compute_score_single_gpu's ids for one pair, from the query's and passage's plain ids. */
export function hfRerankerIds(queryIds: number[], passageIds: number[], specials: XlmrSpecials, maxLength: number, queryMaxLength: number): number[] {
  return hfPrepareForModelPair(hfTruncatedCall(queryIds, queryMaxLength), hfTruncatedCall(passageIds, maxLength), specials, maxLength);
}
