/**
 * Hugging Face BERT tensor names → llama.cpp GGUF names, and which GGML type each one is stored in.
 */
import { BgeGgufError } from '../errors.js';
import { GgmlType } from '../gguf/types.js';
import { Q8_0_BLOCK } from '../gguf/quantize.js';

export type OutType = 'f32' | 'f16' | 'q8_0';

/** general.file_type (llama_ftype) per output type. */
export const FILE_TYPE: Record<OutType, number> = { f32: 0, f16: 1, q8_0: 7 };

const WHOLE_MODEL: Record<string, string> = {
  'embeddings.word_embeddings': 'token_embd',
  'embeddings.token_type_embeddings': 'token_types',
  'embeddings.position_embeddings': 'position_embd',
  'embeddings.LayerNorm': 'token_embd_norm',
};

const PER_LAYER: Record<string, string> = {
  'attention.self.query': 'attn_q',
  'attention.self.key': 'attn_k',
  'attention.self.value': 'attn_v',
  'attention.output.dense': 'attn_output',
  'attention.output.LayerNorm': 'attn_output_norm',
  'intermediate.dense': 'ffn_up',
  'output.dense': 'ffn_down',
  'output.LayerNorm': 'layer_output_norm',
};

/** Heads and buffers an embedding model does not use (skipped, as convert_hf_to_gguf.py does). */
function isSkipped(name: string): boolean {
  return (
    name === 'embeddings.position_ids' ||
    name === 'pooler.dense.weight' ||
    name === 'pooler.dense.bias' ||
    name.startsWith('cls.predictions') ||
    name.startsWith('cls.seq_relationship') ||
    name.endsWith('.attention.masked_bias') ||
    name.endsWith('.attention.bias') ||
    name.endsWith('.rotary_emb.inv_freq')
  );
}

/** Normalises a checkpoint name: "bert." prefix dropped, TF-style gamma/beta → weight/bias. */
export function canonicalName(hfName: string): string {
  let name = hfName.startsWith('bert.') ? hfName.slice(5) : hfName;
  if (name.endsWith('.gamma')) name = name.slice(0, -6) + '.weight';
  else if (name.endsWith('.beta')) name = name.slice(0, -5) + '.bias';
  return name;
}

/** The GGUF name of a checkpoint tensor, or null when the converter leaves it out. */
export function ggufTensorName(hfName: string, layers: number): string | null {
  const name = canonicalName(hfName);
  if (isSkipped(name)) return null;
  const suffix = name.endsWith('.weight') ? '.weight' : name.endsWith('.bias') ? '.bias' : null;
  if (suffix) {
    const base = name.slice(0, -suffix.length);
    if (WHOLE_MODEL[base]) return WHOLE_MODEL[base] + suffix;
    const m = /^encoder\.layer\.(\d+)\.(.+)$/.exec(base);
    if (m && PER_LAYER[m[2]] && Number(m[1]) < layers) return `blk.${Number(m[1])}.${PER_LAYER[m[2]]}${suffix}`;
  }
  throw new BgeGgufError(
    'UNSUPPORTED_MODEL',
    `tensor ${hfName} has no place in llama.cpp's BERT layout; this checkpoint is not a plain BERT encoder`,
  );
}

/**
 * The type a tensor is written in. Mirrors convert_hf_to_gguf.py: 1-D tensors, *_norm weights,
 * position and token-type embeddings stay F32; other weights take the output type; Q8_0 falls
 * back to F16 when a row is not a whole number of 32-value blocks.
 */
export function tensorType(ggufName: string, ggmlShape: number[], out: OutType): GgmlType {
  if (ggmlShape.length <= 1 || ggufName.endsWith('_norm.weight')) return GgmlType.F32;
  if (ggufName === 'position_embd.weight' || ggufName === 'token_types.weight' || !ggufName.endsWith('.weight')) return GgmlType.F32;
  if (out === 'f32') return GgmlType.F32;
  if (out === 'f16') return GgmlType.F16;
  return ggmlShape[0] % Q8_0_BLOCK === 0 ? GgmlType.Q8_0 : GgmlType.F16;
}
