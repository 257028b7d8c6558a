/**
 * Tiny Hugging Face XLM-RoBERTa checkpoints laid out as BAAI publishes bge-reranker-v2-m3 / bge-m3:
 * config.json, model.safetensors ("roberta." prefix, HF's full position table), sentencepiece.bpe.model
 * (a SentencePiece ModelProto, written here from the protobuf description), tokenizer.json (what
 * transformers' XLMRobertaConverter builds) and tokenizer_config.json, from XLM-R's real vocabulary.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readGguf } from '../../src/gguf/reader.js';
import { hfTensors, writeSafetensors, type StTensor } from './hfCheckpoint.js';
import { XLMR_POSITION_OFFSET, type XlmrWeights } from './synthetic/xlmr.js';
import { writeTorchStateDict, type TorchTensor } from './torchSave.js';

interface UgmVocab {
  tokens: string[];
  scores: number[];
  types: number[];
  charsmap: Uint8Array;
}

/** The XLM-R vocabulary (fairseq ids) of a UGM vocab GGUF, cut to vocabSize. */
export async function xlmrVocab(vocabGguf: string, vocabSize = 250002): Promise<UgmVocab> {
  const m = (await readGguf(vocabGguf)).metadata;
  return {
    tokens: (m.get('tokenizer.ggml.tokens')!.value as string[]).slice(0, vocabSize),
    scores: (m.get('tokenizer.ggml.scores')!.value as number[]).slice(0, vocabSize),
    types: (m.get('tokenizer.ggml.token_type')!.value as number[]).slice(0, vocabSize),
    charsmap: Uint8Array.from(m.get('tokenizer.ggml.precompiled_charsmap')!.value as number[]),
  };
}

// --- protobuf wire format ---
function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}
const field = (n: number, wire: number) => varint(n * 8 + wire);
const lengthDelimited = (n: number, body: Uint8Array | number[]) => [...field(n, 2), ...varint(body.length), ...body];
const varintField = (n: number, v: number) => [...field(n, 0), ...varint(v)];
function floatField(n: number, v: number): number[] {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v);
  return [...field(n, 5), ...b];
}

/** sentencepiece.bpe.model: SentencePiece's own ids (<unk> <s> </s> first), Unigram, the charsmap. */
export function sentencePieceModel(v: UgmVocab): Buffer {
  const enc = new TextEncoder();
  const pieces: Array<[string, number, number]> = [
    ['<unk>', 0, 2],
    ['<s>', 0, 3],
    ['</s>', 0, 3],
  ];
  // fairseq's ids 4.. are SentencePiece's 3..; the last (<mask>) is HF's addition, not in the file
  for (let id = 4; id < v.tokens.length - 1; id++) pieces.push([v.tokens[id], v.scores[id], 1]);
  const chunks: number[][] = [];
  for (const [piece, score, type] of pieces) {
    chunks.push(lengthDelimited(1, [...lengthDelimited(1, enc.encode(piece)), ...floatField(2, score), ...varintField(3, type)]));
  }
  chunks.push(lengthDelimited(2, [...varintField(3, 1), ...varintField(4, 250000)])); // TrainerSpec: unigram
  chunks.push(
    lengthDelimited(3, [...lengthDelimited(1, enc.encode('nmt_nfkc')), ...lengthDelimited(2, v.charsmap), ...varintField(3, 1), ...varintField(4, 1), ...varintField(5, 1)]),
  );
  return Buffer.from(chunks.flat());
}

/** tokenizer.json as transformers' XLMRobertaConverter writes it. */
export function tokenizerJson(v: UgmVocab): Record<string, unknown> {
  const specials = [0, 1, 2, 3, v.tokens.length - 1];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((id) => ({ id, content: v.tokens[id], single_word: false, lstrip: id === v.tokens.length - 1, rstrip: false, normalized: false, special: true })),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Precompiled', precompiled_charsmap: Buffer.from(v.charsmap).toString('base64') },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
      ],
    },
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '<s>', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 0 } },
        { SpecialToken: { id: '</s>', type_id: 0 } },
      ],
      special_tokens: {
        '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] },
        '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] },
      },
    },
    decoder: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, vocab: v.tokens.map((t, i) => [t, v.scores[i]]), byte_fallback: false },
  };
}

export interface XlmrCheckpointSpec {
  architecture: 'XLMRobertaForSequenceClassification' | 'XLMRobertaModel';
  /** Which tokenizer files to write (BAAI ships both). */
  tokenizerFiles: Array<'sentencepiece.bpe.model' | 'tokenizer.json'>;
  /** model.safetensors (default) or torch.save's pytorch_model.bin. */
  weights?: 'safetensors' | 'pytorch_model.bin';
}

export function writeXlmrCheckpoint(dir: string, w: XlmrWeights, vocab: UgmVocab, spec: XlmrCheckpointSpec): void {
  mkdirSync(dir, { recursive: true });
  const c = w.encoder.config;
  const classifier = spec.architecture === 'XLMRobertaForSequenceClassification';
  const config: Record<string, unknown> = {
    architectures: [spec.architecture],
    model_type: 'xlm-roberta',
    hidden_act: 'gelu',
    hidden_size: c.hidden,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    intermediate_size: c.ffn,
    max_position_embeddings: c.maxPositions,
    layer_norm_eps: c.layerNormEps,
    type_vocab_size: c.typeVocabSize,
    vocab_size: vocab.tokens.length,
    pad_token_id: XLMR_POSITION_OFFSET - 1,
    bos_token_id: 0,
    eos_token_id: 2,
    ...(classifier ? { id2label: { '0': 'LABEL_0' }, label2id: { LABEL_0: 0 } } : {}),
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const tensors: Record<string, StTensor> = hfTensors(w.encoder, classifier ? 'roberta.' : '');
  for (const name of Object.keys(tensors)) if (classifier && name.includes('pooler.')) delete tensors[name];
  if (classifier) {
    const { dense, outProj } = w.classifier;
    tensors['classifier.dense.weight'] = { dtype: 'F32', shape: [dense.outFeatures, dense.inFeatures], data: dense.weight };
    tensors['classifier.dense.bias'] = { dtype: 'F32', shape: [dense.outFeatures], data: dense.bias };
    tensors['classifier.out_proj.weight'] = { dtype: 'F32', shape: [outProj.outFeatures, outProj.inFeatures], data: outProj.weight };
    tensors['classifier.out_proj.bias'] = { dtype: 'F32', shape: [outProj.outFeatures], data: outProj.bias };
  }
  if (spec.weights === 'pytorch_model.bin') {
    const state: Record<string, TorchTensor> = {};
    for (const [name, t] of Object.entries(tensors)) if (t.dtype === 'F32') state[name] = { dtype: 'F32', shape: t.shape, data: t.data };
    writeTorchStateDict(join(dir, 'pytorch_model.bin'), state);
  } else {
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
  }
  if (spec.tokenizerFiles.includes('sentencepiece.bpe.model')) writeFileSync(join(dir, 'sentencepiece.bpe.model'), sentencePieceModel(vocab));
  if (spec.tokenizerFiles.includes('tokenizer.json')) writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab)));
  const tokenizerConfig = { bos_token: '<s>', eos_token: '</s>', sep_token: '</s>', cls_token: '<s>', unk_token: '<unk>', pad_token: '<pad>', mask_token: '<mask>', model_max_length: 512, tokenizer_class: 'XLMRobertaTokenizer' };
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig, null, 2));
}
