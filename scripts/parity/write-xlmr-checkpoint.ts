/**
 * Writes a synthetic XLM-R checkpoint laid out like BAAI's (see test/support/xlmrCheckpoint.ts) into a
 * folder, for comparing bge-gguf's converter with llama.cpp's convert_hf_to_gguf.py:
 *   npx tsx scripts/parity/write-xlmr-checkpoint.ts <dir> [XLMRobertaForSequenceClassification|XLMRobertaModel]
 */
import { syntheticXlmrWeights } from '../../test/support/synthetic/xlmr.js';
import { writeXlmrCheckpoint, xlmrVocab } from '../../test/support/xlmrCheckpoint.js';
import { TINY_XLMR, xlmrVocabPath } from '../../test/support/xlmrFixture.js';

const [dir, architecture = 'XLMRobertaForSequenceClassification'] = process.argv.slice(2);
if (!dir) throw new Error('usage: write-xlmr-checkpoint.ts <dir> [architecture]');
const { weights } = await syntheticXlmrWeights({ ...TINY_XLMR, vocabGguf: xlmrVocabPath() });
writeXlmrCheckpoint(dir, weights, await xlmrVocab(xlmrVocabPath()), {
  architecture: architecture as 'XLMRobertaForSequenceClassification' | 'XLMRobertaModel',
  tokenizerFiles: ['sentencepiece.bpe.model', 'tokenizer.json'],
});
console.log(`wrote ${architecture} checkpoint to ${dir}`);
