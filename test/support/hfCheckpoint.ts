/**
 * Writes tiny Hugging Face BERT checkpoints (config.json, model.safetensors, tokenizer files,
 * sentence-transformers pooling) for the converter tests. The safetensors writer is written here
 * from the format's description, independently of src/convert's reader.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { f32ToBf16Bits, f32ToF16Bits } from '../../src/gguf/quantize.js';
import type { BertWeights } from './synthetic/bert.js';
import { repoRoot } from './fixtures.js';

export type StDtype = 'F32' | 'F16' | 'BF16' | 'I64' | 'I32';

export interface StTensor {
  dtype: StDtype;
  /** PyTorch order. */
  shape: number[];
  /** Values (rounded to the dtype when written). */
  data: ArrayLike<number>;
}

function encode(t: StTensor): Buffer {
  const n = t.data.length;
  switch (t.dtype) {
    case 'F32': {
      const b = Buffer.alloc(n * 4);
      for (let i = 0; i < n; i++) b.writeFloatLE(t.data[i], i * 4);
      return b;
    }
    case 'F16':
    case 'BF16': {
      const b = Buffer.alloc(n * 2);
      for (let i = 0; i < n; i++) b.writeUInt16LE(t.dtype === 'F16' ? f32ToF16Bits(t.data[i]) : f32ToBf16Bits(t.data[i]), i * 2);
      return b;
    }
    case 'I64': {
      const b = Buffer.alloc(n * 8);
      for (let i = 0; i < n; i++) b.writeBigInt64LE(BigInt(t.data[i]), i * 8);
      return b;
    }
    case 'I32': {
      const b = Buffer.alloc(n * 4);
      for (let i = 0; i < n; i++) b.writeInt32LE(t.data[i], i * 4);
      return b;
    }
  }
}

/** safetensors: u64 LE header size, JSON header (space-padded to 8 bytes), concatenated data. */
export function writeSafetensors(path: string, tensors: Record<string, StTensor>): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const blobs: Buffer[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = encode(t);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    blobs.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeFileSync(path, Buffer.concat([len, Buffer.from(json), ...blobs]));
}

/** The checkpoint tensors of a BertModel with these weights, under Hugging Face's names. */
export function hfTensors(w: BertWeights, prefix = ''): Record<string, StTensor> {
  const { hidden, vocabSize, maxPositions, typeVocabSize } = w.config;
  const f32 = (shape: number[], data: ArrayLike<number>): StTensor => ({ dtype: 'F32', shape, data });
  const out: Record<string, StTensor> = {
    [`${prefix}embeddings.position_ids`]: { dtype: 'I64', shape: [1, maxPositions], data: Array.from({ length: maxPositions }, (_, i) => i) },
    [`${prefix}embeddings.word_embeddings.weight`]: f32([vocabSize, hidden], w.tokenEmbeddings),
    [`${prefix}embeddings.position_embeddings.weight`]: f32([maxPositions, hidden], w.positionEmbeddings),
    [`${prefix}embeddings.token_type_embeddings.weight`]: f32([typeVocabSize, hidden], w.tokenTypeEmbeddings),
    [`${prefix}embeddings.LayerNorm.weight`]: f32([hidden], w.embeddingNorm.weight),
    [`${prefix}embeddings.LayerNorm.bias`]: f32([hidden], w.embeddingNorm.bias),
    [`${prefix}pooler.dense.weight`]: f32([hidden, hidden], new Float32Array(hidden * hidden).fill(0.5)),
    [`${prefix}pooler.dense.bias`]: f32([hidden], new Float32Array(hidden)),
  };
  w.layers.forEach((l, i) => {
    const p = `${prefix}encoder.layer.${i}.`;
    const lin = (name: string, x: { weight: Float32Array; bias: Float32Array; inFeatures: number; outFeatures: number }) => {
      out[`${p}${name}.weight`] = f32([x.outFeatures, x.inFeatures], x.weight);
      out[`${p}${name}.bias`] = f32([x.outFeatures], x.bias);
    };
    const norm = (name: string, x: { weight: Float32Array; bias: Float32Array }) => {
      out[`${p}${name}.weight`] = f32([hidden], x.weight);
      out[`${p}${name}.bias`] = f32([hidden], x.bias);
    };
    lin('attention.self.query', l.query);
    lin('attention.self.key', l.key);
    lin('attention.self.value', l.value);
    lin('attention.output.dense', l.attnOutput);
    norm('attention.output.LayerNorm', l.attnOutputNorm);
    lin('intermediate.dense', l.ffnUp);
    lin('output.dense', l.ffnDown);
    norm('output.LayerNorm', l.layerOutputNorm);
  });
  return out;
}

export function bertConfig(w: BertWeights, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const c = w.config;
  return {
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_act: 'gelu',
    hidden_size: c.hidden,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    intermediate_size: c.ffn,
    max_position_embeddings: c.maxPositions,
    layer_norm_eps: c.layerNormEps,
    type_vocab_size: c.typeVocabSize,
    vocab_size: c.vocabSize,
    pad_token_id: 0,
    ...extra,
  };
}

/** The real uncased WordPiece tokenizer files shipped next to the default model. */
export const SHIPPED_TOKENIZER_DIR = join(repoRoot, 'models', 'all-minilm-l6-v2');

export interface CheckpointSpec {
  tensors: Record<string, StTensor>;
  config: Record<string, unknown>;
  /** 'json': tokenizer.json + tokenizer_config.json; 'txt': vocab.txt (+ tokenizer_config.json). */
  tokenizer: 'json' | 'txt' | 'none';
  pooling?: 'mean' | 'cls';
}

export function writeCheckpoint(dir: string, spec: CheckpointSpec, vocabTxt?: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(spec.config, null, 2));
  writeSafetensors(join(dir, 'model.safetensors'), spec.tensors);
  if (spec.tokenizer !== 'none') copyFileSync(join(SHIPPED_TOKENIZER_DIR, 'tokenizer_config.json'), join(dir, 'tokenizer_config.json'));
  if (spec.tokenizer === 'json') copyFileSync(join(SHIPPED_TOKENIZER_DIR, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  if (spec.tokenizer === 'txt') writeFileSync(join(dir, 'vocab.txt'), vocabTxt ?? '');
  if (spec.pooling) {
    writeFileSync(join(dir, 'modules.json'), JSON.stringify([
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    ]));
    mkdirSync(join(dir, '1_Pooling'), { recursive: true });
    writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({
      word_embedding_dimension: spec.config.hidden_size,
      pooling_mode_cls_token: spec.pooling === 'cls',
      pooling_mode_mean_tokens: spec.pooling === 'mean',
    }));
  }
}
