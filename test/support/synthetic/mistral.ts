/**
 * Random-weight Mistral models (decoder, GQA, RoPE, SwiGLU, RMSNorm) in the GGUF layout llama.cpp's
 * convert_hf_to_gguf.py writes for Mistral checkpoints: arch "llama", with Q and K rows permuted
 * from Hugging Face's rotate-half RoPE layout to llama.cpp's interleaved-pair layout. The weights
 * returned are in Hugging Face's layout, so a reference that applies RoPE the HF way checks that
 * the permutation (and llama.cpp's RoPE) really line up. Used by tests and benchmarks.
 */
import { InvalidInputError } from '../../../src/errors.js';
import { readGguf } from '../../../src/gguf/reader.js';
import { Q8_0_BLOCK, roundTripValues } from '../../../src/gguf/quantize.js';
import { GgmlType, GgufValueType, gv, type GgufTensorInput, type GgufValue } from '../../../src/gguf/types.js';
import { writeGguf } from '../../../src/gguf/writer.js';
import { deriveSeed, Rng } from './random.js';

export type SyntheticMistralType = GgmlType.F32 | GgmlType.F16 | GgmlType.Q8_0;

export interface SyntheticMistralOptions {
  layers: number;
  hidden: number;
  heads: number;
  /** Key/value heads; fewer than `heads` (grouped-query attention) like Mistral's 8 for 32. */
  kvHeads: number;
  ffn: number;
  ropeTheta?: number; // default 10000 (Mistral-7B-v0.1)
  rmsEps?: number; // default 1e-5
  /** llama.context_length; default 4096. */
  contextLength?: number;
  /** A vocab-only SentencePiece GGUF (llama.cpp's models/ggml-vocab-llama-spm.gguf); its tokenizer.ggml.* keys are copied. */
  vocabGguf: string;
  seed: number;
  type: SyntheticMistralType;
  /** tokenizer.ggml.add_eos_token; default true, as bge-en-icl's tokenizer appends </s>. */
  addEos?: boolean;
  /**
   * Control tokens appended to the vocabulary (ids from its size on), as bge-en-icl's fine-tuning
   * added "<instruct>", "<query>", "<response>" (32000-32002) with add_special_tokens.
   */
  addedControlTokens?: readonly string[];
  name?: string;
}

export interface MistralConfig {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  vocabSize: number;
  ropeTheta: number;
  rmsEps: number;
  contextLength: number;
}

/** PyTorch nn.Linear weight without bias: [out, in] row-major. */
export interface MistralLinear {
  weight: Float32Array;
  inFeatures: number;
  outFeatures: number;
}

export interface MistralLayerWeights {
  attnNorm: Float32Array;
  q: MistralLinear;
  k: MistralLinear;
  v: MistralLinear;
  o: MistralLinear;
  ffnNorm: Float32Array;
  gate: MistralLinear;
  up: MistralLinear;
  down: MistralLinear;
}

/** Hugging Face MistralModel layout (q/k NOT permuted). */
export interface MistralWeights {
  config: MistralConfig;
  /** [vocabSize, hidden]: row t is token t's embedding. */
  tokenEmbeddings: Float32Array;
  layers: MistralLayerWeights[];
  outputNorm: Float32Array;
}

export interface SyntheticMistralResult {
  /** The values the file holds (after F16/Q8_0 rounding), in Hugging Face layout. */
  weights: MistralWeights;
  /** The float32 values before conversion to the file's type. */
  sourceWeights: MistralWeights;
}

const CONTROL_TOKEN = 3; // llama.cpp enum llama_token_type: LLAMA_TOKEN_TYPE_CONTROL
const LAST_POOLING = 3; // llama.cpp enum llama_pooling_type: LLAMA_POOLING_TYPE_LAST
const FILE_TYPE: Record<SyntheticMistralType, number> = { [GgmlType.F32]: 0, [GgmlType.F16]: 1, [GgmlType.Q8_0]: 7 };
const MATRIX_STD = 0.08;
// Larger Q/K weights give peaked attention, so positions (RoPE layout, causal mask) visibly matter:
// with the Q/K permutation left out, cosine to the reference drops to ~0.7 instead of ~0.999.
const QK_STD = 0.25;
const EMBEDDING_STD = 0.3;
const NORM_WEIGHT_STD = 0.1;

function checkOptions(o: SyntheticMistralOptions): void {
  for (const key of ['layers', 'hidden', 'heads', 'kvHeads', 'ffn'] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) throw new InvalidInputError(`synthetic Mistral: ${key} must be a positive integer`);
  }
  if (o.hidden % o.heads !== 0) throw new InvalidInputError(`synthetic Mistral: hidden (${o.hidden}) must be a multiple of heads (${o.heads})`);
  if ((o.hidden / o.heads) % 2 !== 0) throw new InvalidInputError('synthetic Mistral: the head size hidden/heads must be even (RoPE rotates pairs)');
  if (o.heads % o.kvHeads !== 0) throw new InvalidInputError(`synthetic Mistral: heads (${o.heads}) must be a multiple of kvHeads (${o.kvHeads})`);
  if (![GgmlType.F32, GgmlType.F16, GgmlType.Q8_0].includes(o.type)) throw new InvalidInputError('synthetic Mistral: type must be F32, F16 or Q8_0');
}

/** The tokenizer.ggml.* metadata of a vocab-only SentencePiece GGUF. */
async function readSpmVocab(path: string, added: readonly string[] = []): Promise<{ entries: Array<[string, GgufValue]>; vocabSize: number }> {
  const file = await readGguf(path);
  const model = file.metadata.get('tokenizer.ggml.model')?.value;
  if (model !== 'llama') throw new InvalidInputError(`${path}: tokenizer.ggml.model is ${String(model)}; a SentencePiece vocab ("llama") is needed`);
  const tokens = file.metadata.get('tokenizer.ggml.tokens');
  if (!tokens || tokens.type !== GgufValueType.ARRAY) throw new InvalidInputError(`${path}: no tokenizer.ggml.tokens`);
  const extend: Record<string, unknown[]> = { 'tokenizer.ggml.tokens': [...added], 'tokenizer.ggml.scores': added.map(() => 0), 'tokenizer.ggml.token_type': added.map(() => CONTROL_TOKEN) };
  const entries = [...file.metadata]
    .filter(([key]) => key.startsWith('tokenizer.ggml.'))
    .map(([key, value]): [string, GgufValue] =>
      key in extend && value.type === GgufValueType.ARRAY ? [key, { ...value, value: [...value.value, ...(extend[key] as Array<string | number>)] }] : [key, value],
    );
  return { entries, vocabSize: tokens.value.length + added.length };
}

function makeSource(config: MistralConfig, seed: number): MistralWeights {
  const { hidden, headDim, ffn } = config;
  const normal = (name: string, count: number, mean: number, std: number): Float32Array =>
    new Rng(deriveSeed(seed, name)).normalArray(count, mean, std);
  const linear = (name: string, inFeatures: number, outFeatures: number, std = MATRIX_STD): MistralLinear => ({
    weight: normal(name, inFeatures * outFeatures, 0, std),
    inFeatures,
    outFeatures,
  });
  const layers: MistralLayerWeights[] = [];
  for (let i = 0; i < config.layers; i++) {
    const p = `blk.${i}`;
    layers.push({
      attnNorm: normal(`${p}.attn_norm.weight`, hidden, 1, NORM_WEIGHT_STD),
      q: linear(`${p}.attn_q.weight`, hidden, config.heads * headDim, QK_STD),
      k: linear(`${p}.attn_k.weight`, hidden, config.kvHeads * headDim, QK_STD),
      v: linear(`${p}.attn_v.weight`, hidden, config.kvHeads * headDim),
      o: linear(`${p}.attn_output.weight`, config.heads * headDim, hidden),
      ffnNorm: normal(`${p}.ffn_norm.weight`, hidden, 1, NORM_WEIGHT_STD),
      gate: linear(`${p}.ffn_gate.weight`, hidden, ffn),
      up: linear(`${p}.ffn_up.weight`, hidden, ffn),
      down: linear(`${p}.ffn_down.weight`, ffn, hidden),
    });
  }
  return {
    config,
    tokenEmbeddings: normal('token_embd.weight', config.vocabSize * hidden, 0, EMBEDDING_STD),
    layers,
    outputNorm: normal('output_norm.weight', hidden, 1, NORM_WEIGHT_STD),
  };
}

/**
 * convert_hf_to_gguf.py's LlamaModel.permute, on the rows of an [nHeads * headDim, in] matrix: within
 * each head, HF row s * headDim/2 + j (s = 0 first half, 1 second half) becomes row 2j + s, so the
 * pairs HF rotates together (j, j + headDim/2) sit next to each other as llama.cpp's RoPE expects.
 */
export function permuteRopeRows(weight: Float32Array, nHeads: number, inFeatures: number, inverse = false): Float32Array {
  const headDim = weight.length / inFeatures / nHeads;
  const half = headDim / 2;
  const out = new Float32Array(weight.length);
  for (let h = 0; h < nHeads; h++) {
    for (let s = 0; s < 2; s++) {
      for (let j = 0; j < half; j++) {
        const hfRow = h * headDim + s * half + j;
        const ggufRow = h * headDim + 2 * j + s;
        const [from, to] = inverse ? [ggufRow, hfRow] : [hfRow, ggufRow];
        out.set(weight.subarray(from * inFeatures, (from + 1) * inFeatures), to * inFeatures);
      }
    }
  }
  return out;
}

/** The tensors convert_hf_to_gguf.py writes (1-D norms F32; Q8_0 falls back to F16 for rows not in whole 32-blocks). */
function toTensors(w: MistralWeights, type: SyntheticMistralType): GgufTensorInput[] {
  const { hidden, heads, kvHeads } = w.config;
  const matrixType = (rowLength: number): GgmlType => (type === GgmlType.Q8_0 && rowLength % Q8_0_BLOCK !== 0 ? GgmlType.F16 : type);
  const tensors: GgufTensorInput[] = [];
  const f32 = (name: string, data: Float32Array) => tensors.push({ name, shape: [data.length], type: GgmlType.F32, data });
  const linear = (name: string, l: MistralLinear, data: Float32Array = l.weight) =>
    tensors.push({ name, shape: [l.inFeatures, l.outFeatures], type: matrixType(l.inFeatures), data });
  tensors.push({ name: 'token_embd.weight', shape: [hidden, w.config.vocabSize], type: matrixType(hidden), data: w.tokenEmbeddings });
  w.layers.forEach((l, i) => {
    const p = `blk.${i}`;
    f32(`${p}.attn_norm.weight`, l.attnNorm);
    linear(`${p}.attn_q.weight`, l.q, permuteRopeRows(l.q.weight, heads, hidden));
    linear(`${p}.attn_k.weight`, l.k, permuteRopeRows(l.k.weight, kvHeads, hidden));
    linear(`${p}.attn_v.weight`, l.v);
    linear(`${p}.attn_output.weight`, l.o);
    f32(`${p}.ffn_norm.weight`, l.ffnNorm);
    linear(`${p}.ffn_gate.weight`, l.gate);
    linear(`${p}.ffn_up.weight`, l.up);
    linear(`${p}.ffn_down.weight`, l.down);
  });
  f32('output_norm.weight', w.outputNorm);
  // No output.weight: bge-en-icl is a MistralModel (no lm_head); llama.cpp then reuses token_embd.
  return tensors;
}

/** The weights as stored (after rounding), brought back to Hugging Face layout. */
function storedWeights(source: MistralWeights, tensors: GgufTensorInput[]): MistralWeights {
  const stored = new Map(tensors.map((t) => [t.name, roundTripValues(t.type, t.data)]));
  const get = (name: string): Float32Array => stored.get(name)!;
  const { hidden, heads, kvHeads } = source.config;
  const linear = (l: MistralLinear, data: Float32Array): MistralLinear => ({ ...l, weight: data });
  return {
    config: source.config,
    tokenEmbeddings: get('token_embd.weight'),
    outputNorm: get('output_norm.weight'),
    layers: source.layers.map((l, i) => {
      const p = `blk.${i}`;
      return {
        attnNorm: get(`${p}.attn_norm.weight`),
        q: linear(l.q, permuteRopeRows(get(`${p}.attn_q.weight`), heads, hidden, true)),
        k: linear(l.k, permuteRopeRows(get(`${p}.attn_k.weight`), kvHeads, hidden, true)),
        v: linear(l.v, get(`${p}.attn_v.weight`)),
        o: linear(l.o, get(`${p}.attn_output.weight`)),
        ffnNorm: get(`${p}.ffn_norm.weight`),
        gate: linear(l.gate, get(`${p}.ffn_gate.weight`)),
        up: linear(l.up, get(`${p}.ffn_up.weight`)),
        down: linear(l.down, get(`${p}.ffn_down.weight`)),
      };
    }),
  };
}

function metadata(o: SyntheticMistralOptions, c: MistralConfig, vocab: Array<[string, GgufValue]>): Array<[string, GgufValue]> {
  const addEos = o.addEos ?? true;
  const tokenizer = vocab.filter(([key]) => key !== 'tokenizer.ggml.add_eos_token');
  return [
    ['general.architecture', gv.str('llama')],
    ['general.type', gv.str('model')],
    ['general.name', gv.str(o.name ?? `synthetic-mistral-L${c.layers}-H${c.hidden}`)],
    ['llama.block_count', gv.u32(c.layers)],
    ['llama.context_length', gv.u32(c.contextLength)],
    ['llama.embedding_length', gv.u32(c.hidden)],
    ['llama.feed_forward_length', gv.u32(c.ffn)],
    ['llama.attention.head_count', gv.u32(c.heads)],
    ['llama.attention.head_count_kv', gv.u32(c.kvHeads)],
    ['llama.rope.freq_base', gv.f32(c.ropeTheta)],
    ['llama.attention.layer_norm_rms_epsilon', gv.f32(c.rmsEps)],
    ['general.file_type', gv.u32(FILE_TYPE[o.type])],
    ['llama.vocab_size', gv.u32(c.vocabSize)],
    ['llama.rope.dimension_count', gv.u32(c.headDim)],
    ['llama.pooling_type', gv.u32(LAST_POOLING)],
    ['general.quantization_version', gv.u32(2)],
    ...tokenizer,
    ['tokenizer.ggml.add_eos_token', gv.bool(addEos)],
  ];
}

async function plan(options: SyntheticMistralOptions) {
  checkOptions(options);
  const vocab = await readSpmVocab(options.vocabGguf, options.addedControlTokens);
  const config: MistralConfig = {
    layers: options.layers,
    hidden: options.hidden,
    heads: options.heads,
    kvHeads: options.kvHeads,
    headDim: options.hidden / options.heads,
    ffn: options.ffn,
    vocabSize: vocab.vocabSize,
    // the file stores float32s; the reference must use the same values
    ropeTheta: Math.fround(options.ropeTheta ?? 10000),
    rmsEps: Math.fround(options.rmsEps ?? 1e-5),
    contextLength: options.contextLength ?? 4096,
  };
  const sourceWeights = makeSource(config, options.seed);
  const tensors = toTensors(sourceWeights, options.type);
  const weights = options.type === GgmlType.F32 ? sourceWeights : storedWeights(sourceWeights, tensors);
  return { config, vocab, tensors, result: { weights, sourceWeights } };
}

/** Writes a random-weight Mistral GGUF (arch llama, last-token pooling) and returns its weights in HF layout. */
export async function writeSyntheticMistral(outPath: string, options: SyntheticMistralOptions): Promise<SyntheticMistralResult> {
  const { config, vocab, tensors, result } = await plan(options);
  await writeGguf(outPath, metadata(options, config, vocab.entries), tensors);
  return result;
}

/** The weights writeSyntheticMistral would produce for these options, without writing a file. */
export async function syntheticMistralWeights(options: SyntheticMistralOptions): Promise<SyntheticMistralResult> {
  return (await plan(options)).result;
}
