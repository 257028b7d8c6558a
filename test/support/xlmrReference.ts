/**
 * Independent float64 forward pass of Hugging Face's XLMRobertaForSequenceClassification (one
 * sequence, no padding): RoBERTa embeddings with position ids padding_idx + 1 + t on the full HF
 * position table, the post-LN BERT encoder, then RobertaClassificationHead on the <s> token:
 * dense → tanh → out_proj. Returns the raw logits (FlagReranker's score before any sigmoid).
 */
import { bertEncoderLayers, layerNorm, linear, type Matrix } from './bertReference.js';
import { XLMR_POSITION_OFFSET, type XlmrWeights } from './synthetic/xlmr.js';

export function xlmrHiddenStates(w: XlmrWeights, ids: ArrayLike<number>): Matrix {
  const e = w.encoder;
  const { hidden, maxPositions, vocabSize, layerNormEps } = e.config;
  if (ids.length < 1 || ids.length + XLMR_POSITION_OFFSET > maxPositions) throw new Error(`sequence length ${ids.length} too long`);
  const rows: Matrix = [];
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw new Error(`token id ${id} outside the vocabulary`);
    const position = XLMR_POSITION_OFFSET + t;
    const x = new Float64Array(hidden);
    for (let i = 0; i < hidden; i++) {
      x[i] = e.tokenEmbeddings[id * hidden + i] + e.positionEmbeddings[position * hidden + i] + e.tokenTypeEmbeddings[i];
    }
    rows.push(layerNorm(x, e.embeddingNorm, layerNormEps));
  }
  return bertEncoderLayers(e, rows);
}

/** The classifier's logits for one sequence of ids (`<s> q </s></s> p </s>` for a reranker pair). */
export function xlmrClassifierLogits(w: XlmrWeights, ids: ArrayLike<number>): Float64Array {
  const first = xlmrHiddenStates(w, ids)[0];
  const dense = linear([first], w.classifier.dense)[0].map(Math.tanh);
  return linear([dense], w.classifier.outProj)[0];
}

/** FlagReranker's score: the first logit, through a sigmoid when normalize is set. */
export function referenceRerankScore(w: XlmrWeights, ids: ArrayLike<number>, normalize = false): number {
  const logit = xlmrClassifierLogits(w, ids)[0];
  return normalize ? 1 / (1 + Math.exp(-logit)) : logit;
}
