export { convertHfToGguf, sizeLabel, OUT_TYPES, type ConvertOptions, type ConvertSummary, type OutType } from './convert.js';
export { readSafetensorsHeader, readTensorAsF32, type SafetensorsHeader, type SafetensorsTensor } from './safetensors.js';
export { ggufTensorName, tensorType } from './tensorNames.js';
export { readBertVocab, TokenType, type BertVocab } from './vocab.js';
export { readTorchStateDict } from './torchCheckpoint.js';
export { readSentencePieceModel, type SentencePieceModel } from './sentencepiece.js';
