/**
 * Random-weight decoder embedders in the GGUF layout llama.cpp's convert_hf_to_gguf.py writes:
 * - qwen2 (gte-Qwen2-*-instruct): RMSNorm, GQA with Q/K/V biases, NEOX RoPE (no Q/K permutation), SwiGLU;
 * - gemma2 (bge-multilingual-gemma2): embeddings scaled by sqrt(hidden), RMSNorm with (1 + w) stored
 *   as w + 1, head size independent of hidden/heads, attention logit soft-capping, post-attention and
 *   post-feed-forward norms, GELU(tanh)-gated feed-forward.
 * The weights come back in Hugging Face layout (norm weights as HF holds them) for float64 references.
 * The vocabulary (tokenizer.ggml.*) is copied from a vocab-only GGUF of the bundle.
 */
import { readGguf } from '../../../src/gguf/reader.js';
import { GgmlType, GgufValueType, gv, type GgufTensorInput, type GgufValue } from '../../../src/gguf/types.js';
import { writeGguf } from '../../../src/gguf/writer.js';
import { deriveSeed, Rng } from './random.js';

export type DecoderArch = 'qwen2' | 'gemma2';

export interface SyntheticDecoderOptions {
  arch: DecoderArch;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  /** Per-head size; qwen2 requires hidden / heads. */
  headDim: number;
  ffn: number;
  vocabGguf: string;
  seed: number;
  ropeTheta?: number;
  rmsEps?: number;
  /** gemma2 attention logit soft-cap (HF attn_logit_softcapping, 50 in Gemma 2). */
  attnSoftcap?: number;
  addBos: boolean;
  addEos: boolean;
  /** Overrides tokenizer.ggml.eos_token_id (gte-Qwen2 appends <|endoftext|>). */
  eosId?: number;
}

export interface DecoderLinear {
  weight: Float32Array; // [out, in] row-major
  bias: Float32Array | null;
  inFeatures: number;
  outFeatures: number;
}

export interface DecoderLayer {
  inputNorm: Float32Array;
  q: DecoderLinear;
  k: DecoderLinear;
  v: DecoderLinear;
  o: DecoderLinear;
  postAttentionNorm: Float32Array | null;
  preFfnNorm: Float32Array;
  postFfnNorm: Float32Array | null;
  gate: DecoderLinear;
  up: DecoderLinear;
  down: DecoderLinear;
}

export interface DecoderWeights {
  arch: DecoderArch;
  config: { hidden: number; heads: number; kvHeads: number; headDim: number; ffn: number; vocabSize: number; ropeTheta: number; rmsEps: number; attnSoftcap: number };
  tokenEmbeddings: Float32Array;
  layers: DecoderLayer[];
  finalNorm: Float32Array;
}

const LAST_POOLING = 3;

export async function writeSyntheticDecoder(outPath: string, o: SyntheticDecoderOptions): Promise<DecoderWeights> {
  const vocabFile = await readGguf(o.vocabGguf);
  const tokens = vocabFile.metadata.get('tokenizer.ggml.tokens');
  if (!tokens || tokens.type !== GgufValueType.ARRAY) throw new Error(`${o.vocabGguf}: no tokenizer.ggml.tokens`);
  const vocabSize = tokens.value.length;
  const gemma = o.arch === 'gemma2';
  if (!gemma && o.headDim * o.heads !== o.hidden) throw new Error('qwen2: headDim must be hidden / heads');
  const config = {
    hidden: o.hidden,
    heads: o.heads,
    kvHeads: o.kvHeads,
    headDim: o.headDim,
    ffn: o.ffn,
    vocabSize,
    ropeTheta: Math.fround(o.ropeTheta ?? (gemma ? 10000 : 1000000)),
    rmsEps: Math.fround(o.rmsEps ?? 1e-6),
    attnSoftcap: Math.fround(o.attnSoftcap ?? 50),
  };
  const normal = (name: string, count: number, mean: number, std: number) => new Rng(deriveSeed(o.seed, name)).normalArray(count, mean, std);
  const linear = (name: string, inFeatures: number, outFeatures: number, std: number, bias: boolean): DecoderLinear => ({
    weight: normal(`${name}.weight`, inFeatures * outFeatures, 0, std),
    bias: bias ? normal(`${name}.bias`, outFeatures, 0, 0.2) : null,
    inFeatures,
    outFeatures,
  });
  // HF Gemma norms hold w (applied as 1 + w); Qwen2 norms hold the scale itself
  const norm = (name: string) => normal(name, o.hidden, gemma ? 0 : 1, 0.1);
  const qkStd = gemma ? 0.6 : 0.3; // peaked attention (and, for gemma2, scores near the soft-cap)
  const layers: DecoderLayer[] = Array.from({ length: o.layers }, (_, i) => {
    const p = `blk.${i}`;
    return {
      inputNorm: norm(`${p}.attn_norm`),
      q: linear(`${p}.attn_q`, o.hidden, o.heads * o.headDim, qkStd, !gemma),
      k: linear(`${p}.attn_k`, o.hidden, o.kvHeads * o.headDim, qkStd, !gemma),
      v: linear(`${p}.attn_v`, o.hidden, o.kvHeads * o.headDim, 0.1, !gemma),
      o: linear(`${p}.attn_output`, o.heads * o.headDim, o.hidden, 0.1, false),
      postAttentionNorm: gemma ? norm(`${p}.post_attention_norm`) : null,
      preFfnNorm: norm(`${p}.ffn_norm`),
      postFfnNorm: gemma ? norm(`${p}.post_ffw_norm`) : null,
      gate: linear(`${p}.ffn_gate`, o.hidden, o.ffn, 0.1, false),
      up: linear(`${p}.ffn_up`, o.hidden, o.ffn, 0.1, false),
      down: linear(`${p}.ffn_down`, o.ffn, o.hidden, 0.1, false),
    };
  });
  const weights: DecoderWeights = {
    arch: o.arch,
    config,
    tokenEmbeddings: normal('token_embd.weight', vocabSize * o.hidden, 0, gemma ? 0.05 : 0.3),
    layers,
    finalNorm: norm('output_norm'),
  };

  const tensors: GgufTensorInput[] = [];
  const f32 = (name: string, data: Float32Array) => tensors.push({ name, shape: [data.length], type: GgmlType.F32, data });
  const gemmaNorm = (name: string, w: Float32Array) => f32(name, gemma ? w.map((x) => x + 1) : w);
  const lin = (name: string, l: DecoderLinear) => {
    tensors.push({ name: `${name}.weight`, shape: [l.inFeatures, l.outFeatures], type: GgmlType.F32, data: l.weight });
    if (l.bias) f32(`${name}.bias`, l.bias);
  };
  tensors.push({ name: 'token_embd.weight', shape: [o.hidden, vocabSize], type: GgmlType.F32, data: weights.tokenEmbeddings });
  layers.forEach((l, i) => {
    const p = `blk.${i}`;
    gemmaNorm(`${p}.attn_norm.weight`, l.inputNorm);
    lin(`${p}.attn_q`, l.q);
    lin(`${p}.attn_k`, l.k);
    lin(`${p}.attn_v`, l.v);
    lin(`${p}.attn_output`, l.o);
    if (l.postAttentionNorm) gemmaNorm(`${p}.post_attention_norm.weight`, l.postAttentionNorm);
    gemmaNorm(`${p}.ffn_norm.weight`, l.preFfnNorm);
    if (l.postFfnNorm) gemmaNorm(`${p}.post_ffw_norm.weight`, l.postFfnNorm);
    lin(`${p}.ffn_gate`, l.gate);
    lin(`${p}.ffn_up`, l.up);
    lin(`${p}.ffn_down`, l.down);
  });
  gemmaNorm('output_norm.weight', weights.finalNorm);

  const a = o.arch;
  const replaced = new Set(['tokenizer.ggml.add_bos_token', 'tokenizer.ggml.add_eos_token', ...(o.eosId === undefined ? [] : ['tokenizer.ggml.eos_token_id'])]);
  const tokenizer = [...vocabFile.metadata].filter(([key]) => key.startsWith('tokenizer.ggml.') && !replaced.has(key));
  const metadata: Array<[string, GgufValue]> = [
    ['general.architecture', gv.str(a)],
    ['general.name', gv.str(`synthetic-${a}-L${o.layers}-H${o.hidden}`)],
    ['general.file_type', gv.u32(0)],
    [`${a}.block_count`, gv.u32(o.layers)],
    [`${a}.context_length`, gv.u32(4096)],
    [`${a}.embedding_length`, gv.u32(o.hidden)],
    [`${a}.feed_forward_length`, gv.u32(o.ffn)],
    [`${a}.attention.head_count`, gv.u32(o.heads)],
    [`${a}.attention.head_count_kv`, gv.u32(o.kvHeads)],
    [`${a}.rope.freq_base`, gv.f32(config.ropeTheta)],
    [`${a}.attention.layer_norm_rms_epsilon`, gv.f32(config.rmsEps)],
    [`${a}.pooling_type`, gv.u32(LAST_POOLING)],
    ...(gemma
      ? ([
          [`${a}.attention.key_length`, gv.u32(o.headDim)],
          [`${a}.attention.value_length`, gv.u32(o.headDim)],
          [`${a}.attn_logit_softcapping`, gv.f32(config.attnSoftcap)],
          [`${a}.final_logit_softcapping`, gv.f32(30)],
          [`${a}.attention.sliding_window`, gv.u32(4096)],
        ] as Array<[string, GgufValue]>)
      : []),
    ['general.quantization_version', gv.u32(2)],
    ...tokenizer,
    ['tokenizer.ggml.add_bos_token', gv.bool(o.addBos)],
    ['tokenizer.ggml.add_eos_token', gv.bool(o.addEos)],
    ...(o.eosId === undefined ? [] : ([['tokenizer.ggml.eos_token_id', gv.u32(o.eosId)]] as Array<[string, GgufValue]>)),
  ];
  await writeGguf(outPath, metadata, tensors);
  return weights;
}
