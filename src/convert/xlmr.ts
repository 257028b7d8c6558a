/**
 * Hugging Face XLM-RoBERTa checkpoints (XLMRobertaModel: bge-m3; XLMRobertaForSequenceClassification:
 * bge-reranker-base/-large/-v2-m3) → the GGUF llama.cpp's convert_hf_to_gguf.py writes for them:
 * arch "bert", the UGM ("t5") tokenizer with SentencePiece scores and precompiled charsmap, the
 * position table without its first pad_token_id + 1 rows, the classification head as cls / cls.output.
 * Differences from the script, on purpose: a sequence classifier also gets bert.pooling_type = RANK,
 * so llama.cpp and bge-gguf know it is a reranker without being told.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BgeGgufError, ModelNotFoundError } from '../errors.js';
import { GgufValueType, gv, type GgufTensorInput, type GgufValue } from '../gguf/types.js';
import { writeGgufAtomically } from '../gguf/writer.js';
import { readHparams, readJsonIfPresent, readModelCard, readPooling, safetensorsFiles, type CheckpointPooling } from './checkpoint.js';
import { readSafetensorsHeader, readTensorAsF32, type SafetensorsTensor } from './safetensors.js';
import { readSentencePieceModel } from './sentencepiece.js';
import { readTorchStateDict } from './torchCheckpoint.js';
import { readSpecialTokens, specialTokenMetadata } from './specialTokens.js';
import { FILE_TYPE, ggufTensorName, tensorType, type OutType } from './tensorNames.js';
import { TokenType } from './vocab.js';

export const XLMR_ARCHITECTURES = ['XLMRobertaModel', 'XLMRobertaForSequenceClassification'] as const;

const POOLING_TYPE: Record<CheckpointPooling | 'rank', number> = { mean: 1, cls: 2, last: 3, rank: 4 };

export function isXlmrCheckpoint(dir: string): boolean {
  const config = readJsonIfPresent(join(dir, 'config.json'));
  const archs = Array.isArray(config?.architectures) ? (config.architectures as unknown[]).map(String) : [];
  return archs.some((a) => (XLMR_ARCHITECTURES as readonly string[]).includes(a));
}

export interface XlmrVocab {
  tokens: string[];
  scores: number[];
  types: number[];
  charsmap: Uint8Array;
  addSpacePrefix: boolean;
  removeExtraWhitespaces: boolean;
  source: 'sentencepiece.bpe.model' | 'tokenizer.json';
  tokenizerJson: Record<string, unknown> | null;
}

/** sentencepiece.bpe.model (preferred, as the script does) or tokenizer.json → llama.cpp's UGM vocabulary. */
export function readXlmrVocab(dir: string, configVocabSize: number | null): XlmrVocab {
  const spmPath = join(dir, 'sentencepiece.bpe.model');
  const jsonPath = join(dir, 'tokenizer.json');
  const tokenizerJson = existsSync(jsonPath) ? readJsonIfPresent(jsonPath) : null;
  if (existsSync(spmPath)) {
    const spm = readSentencePieceModel(readFileSync(spmPath), spmPath);
    if (spm.modelType !== 1) throw new BgeGgufError('UNSUPPORTED_MODEL', `${spmPath}: model type ${spm.modelType} is not Unigram`);
    const size = Math.max(configVocabSize ?? 0, spm.pieces.length);
    let tokens = Array.from({ length: size }, (_, i) => `[PAD${i}]`);
    let scores = new Array<number>(size).fill(-10000);
    let types = new Array<number>(size).fill(TokenType.UNUSED);
    spm.pieces.forEach((p, id) => {
      tokens[id] = p.piece;
      scores[id] = p.score;
      // the script keeps unknown, control, unused and byte; everything else (user-defined too) is normal
      types[id] = [2, 3, 5, 6].includes(p.type) ? p.type : TokenType.NORMAL;
    });
    // fairseq's ids: <s> <pad> </s> <unk> first, SentencePiece's own ids shifted by one (HF's realignment)
    tokens = ['<s>', '<pad>', '</s>', '<unk>', ...tokens.slice(3, -1)];
    scores = [0, 0, 0, 0, ...scores.slice(3, -1)];
    types = [TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL, TokenType.UNKNOWN, ...types.slice(3, -1)];
    return {
      tokens, scores, types,
      charsmap: spm.precompiledCharsmap,
      addSpacePrefix: spm.addDummyPrefix,
      removeExtraWhitespaces: spm.removeExtraWhitespaces,
      source: 'sentencepiece.bpe.model',
      tokenizerJson,
    };
  }
  if (!tokenizerJson) throw new ModelNotFoundError(`${dir} has neither sentencepiece.bpe.model nor tokenizer.json; copy the checkpoint's tokenizer files into it`);
  const model = tokenizerJson.model as { type?: unknown; vocab?: unknown; unk_id?: unknown } | undefined;
  if (model?.type !== 'Unigram' || !Array.isArray(model.vocab)) {
    throw new BgeGgufError('UNSUPPORTED_MODEL', `${jsonPath}: the tokenizer model is ${String(model?.type)}, XLM-RoBERTa's is Unigram`);
  }
  const vocab = model.vocab as Array<[string, number]>;
  const config = readJsonIfPresent(join(dir, 'tokenizer_config.json'));
  const added = (Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens : []) as Array<{ id: number; content: string; special?: boolean }>;
  const unkName = typeof config?.unk_token === 'string' ? config.unk_token : (config?.unk_token as { content?: string } | undefined)?.content;
  const unkId = added.find((t) => t.content === unkName)?.id ?? (typeof model.unk_id === 'number' ? model.unk_id : 3);
  const size = Math.max(configVocabSize ?? 0, vocab.length);
  const tokens = Array.from({ length: size }, (_, i) => `[PAD${i}]`);
  const scores = new Array<number>(size).fill(-10000);
  const types = new Array<number>(size).fill(TokenType.UNUSED);
  const addedById = new Map(added.map((t) => [t.id, t]));
  vocab.forEach(([piece, score], id) => {
    tokens[id] = piece;
    scores[id] = score;
    const a = addedById.get(id);
    types[id] = id === unkId ? TokenType.UNKNOWN : a?.special ? TokenType.CONTROL : a ? TokenType.USER_DEFINED : TokenType.NORMAL;
  });
  const normalizers = [tokenizerJson.normalizer, ...(((tokenizerJson.normalizer as { normalizers?: unknown[] } | null)?.normalizers) ?? [])] as Array<{ type?: string; precompiled_charsmap?: string } | null>;
  const precompiled = normalizers.find((n) => n?.type === 'Precompiled')?.precompiled_charsmap;
  return {
    tokens, scores, types,
    charsmap: precompiled ? Uint8Array.from(Buffer.from(precompiled, 'base64')) : new Uint8Array(0),
    addSpacePrefix: config?.add_prefix_space !== false,
    removeExtraWhitespaces: config?.clean_up_tokenization_spaces !== false,
    source: 'tokenizer.json',
    tokenizerJson,
  };
}

/** A checkpoint tensor's GGUF name: "roberta." dropped, the classification head as cls / cls.output. */
export function xlmrTensorName(hfName: string, layers: number): string | null {
  const name = hfName.startsWith('roberta.') ? hfName.slice(8) : hfName;
  const head = /^classifier\.(dense|out_proj)\.(weight|bias)$/.exec(name);
  if (head) return `${head[1] === 'dense' ? 'cls' : 'cls.output'}.${head[2]}`;
  return ggufTensorName(name, layers);
}

/** model*.safetensors when present (the script's preference), else pytorch_model*.bin. */
function weightFiles(dir: string): string[] {
  const names = readdirSync(dir);
  if (names.some((f) => f.startsWith('model') && f.endsWith('.safetensors'))) return safetensorsFiles(dir);
  const bins = names.filter((f) => f.startsWith('pytorch_model') && f.endsWith('.bin')).sort();
  if (bins.length === 0) throw new ModelNotFoundError(`${dir} has neither model.safetensors nor pytorch_model.bin; download the checkpoint's weights into it`);
  return bins.map((f) => join(dir, f));
}

export interface XlmrConvertResult {
  architecture: string;
  layers: number;
  hidden: number;
  heads: number;
  ffn: number;
  contextLength: number;
  vocabSize: number;
  pooling: CheckpointPooling | 'rank' | null;
  tokenizerSource: XlmrVocab['source'];
  tensorCount: number;
  parameterCount: number;
  skippedTensors: string[];
  fileBytes: number;
}

export async function convertXlmr(dir: string, out: string, options: { type: OutType; name?: string; pooling?: CheckpointPooling }): Promise<XlmrConvertResult> {
  const h = readHparams(dir, XLMR_ARCHITECTURES);
  const files = weightFiles(dir);
  const vocab = readXlmrVocab(dir, h.vocabSize);
  const vocabSize = vocab.tokens.length;
  const padId = h.raw.pad_token_id;
  const offset = typeof padId === 'number' ? padId + 1 : 0;
  const contextLength = h.contextLength - offset;
  const classifier = h.architecture === 'XLMRobertaForSequenceClassification';
  const pooling = options.pooling ?? (classifier ? 'rank' : readPooling(dir));
  const special = readSpecialTokens(vocab.tokenizerJson, readJsonIfPresent(join(dir, 'tokenizer_config.json')), h.raw, vocabSize);

  const all: SafetensorsTensor[] = [];
  for (const file of files) all.push(...(file.endsWith('.bin') ? await readTorchStateDict(file) : (await readSafetensorsHeader(file)).tensors));
  all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const tensors: GgufTensorInput[] = [];
  const skipped: string[] = [];
  let parameterCount = 0;
  for (const t of all) {
    const name = xlmrTensorName(t.name, h.layers);
    if (name === null) {
      skipped.push(t.name);
      continue;
    }
    let data = await readTensorAsF32(t);
    let torchShape = t.shape;
    if (name === 'position_embd.weight' && offset > 0) {
      data = data.slice(offset * t.shape[1]);
      torchShape = [t.shape[0] - offset, t.shape[1]];
    }
    const shape = [...torchShape].reverse();
    tensors.push({ name, shape, type: tensorType(name, shape, options.type), data });
    parameterCount += torchShape.reduce((a, d) => a * d, 1);
  }
  const names = new Set(tensors.map((t) => t.name));
  for (const required of ['token_embd.weight', 'position_embd.weight', 'blk.0.attn_q.weight']) {
    if (!names.has(required)) throw new BgeGgufError('UNSUPPORTED_MODEL', `${dir}: the checkpoint lacks ${required}; is it a complete XLM-RoBERTa model?`);
  }
  if (classifier && !names.has('cls.output.weight')) throw new BgeGgufError('UNSUPPORTED_MODEL', `${dir}: a sequence classifier without classifier.out_proj weights`);

  const id2label = h.raw.id2label as Record<string, string> | undefined;
  const labels = id2label ? Object.entries(id2label).sort(([a], [b]) => Number(a) - Number(b)).map(([, v]) => String(v)) : [];
  const dummyLabels = labels.length === 2 && labels[0] === 'LABEL_0';
  const card = readModelCard(dir);
  const metadata: Array<[string, GgufValue]> = [
    ['general.architecture', gv.str('bert')],
    ['general.type', gv.str('model')],
    ['general.name', gv.str(options.name ?? basename(dir))],
  ];
  if (card.license) metadata.push(['general.license', gv.str(card.license)]);
  if (card.tags) metadata.push(['general.tags', gv.strs(card.tags)]);
  if (card.languages) metadata.push(['general.languages', gv.strs(card.languages)]);
  metadata.push(
    ['bert.block_count', gv.u32(h.layers)],
    ['bert.context_length', gv.u32(contextLength)],
    ['bert.embedding_length', gv.u32(h.hidden)],
    ['bert.feed_forward_length', gv.u32(h.ffn)],
    ['bert.attention.head_count', gv.u32(h.heads)],
    ['bert.attention.layer_norm_epsilon', gv.f32(h.layerNormEps)],
    ['general.file_type', gv.u32(FILE_TYPE[options.type])],
    ['bert.attention.causal', gv.bool(false)],
  );
  if (pooling) metadata.push(['bert.pooling_type', gv.u32(POOLING_TYPE[pooling])]);
  if (labels.length > 0 && !dummyLabels) metadata.push(['bert.classifier.output_labels', gv.strs(labels)]);
  metadata.push(
    ['general.quantization_version', gv.u32(2)],
    ['tokenizer.ggml.model', gv.str('t5')],
    ['tokenizer.ggml.pre', gv.str('default')],
    ['tokenizer.ggml.tokens', gv.strs(vocab.tokens)],
    ['tokenizer.ggml.scores', gv.f32s(vocab.scores)],
    ['tokenizer.ggml.token_type', gv.i32s(vocab.types)],
    ['tokenizer.ggml.add_space_prefix', gv.bool(vocab.addSpacePrefix)],
    ['tokenizer.ggml.token_type_count', gv.u32(h.typeVocabSize)],
    ['tokenizer.ggml.remove_extra_whitespaces', gv.bool(vocab.removeExtraWhitespaces)],
  );
  if (vocab.charsmap.length > 0) {
    metadata.push(['tokenizer.ggml.precompiled_charsmap', { type: GgufValueType.ARRAY, itemType: GgufValueType.UINT8, value: Array.from(vocab.charsmap) }]);
  }
  metadata.push(...specialTokenMetadata(special));

  await writeGgufAtomically(out, metadata, tensors);
  return {
    architecture: h.architecture,
    layers: h.layers,
    hidden: h.hidden,
    heads: h.heads,
    ffn: h.ffn,
    contextLength,
    vocabSize,
    pooling,
    tokenizerSource: vocab.source,
    tensorCount: tensors.length,
    parameterCount,
    skippedTensors: skipped,
    fileBytes: statSync(out).size,
  };
}
