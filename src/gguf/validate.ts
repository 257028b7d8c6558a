/**
 * Checks a GGUF header against what llama.cpp would assert on (GGML_ASSERT / GGML_ABORT end the
 * process; no try/catch can stop them) before the file reaches llama.cpp: hyper-parameters,
 * tokenizer metadata and tensor shapes, per architecture. Found from llama.cpp's
 * llama-model.cpp (load_hparams), models/<arch>.cpp (load_arch_tensors, graph asserts),
 * llama-vocab.cpp (load) and by fuzzing (test/gguf-fuzz.test.ts).
 * A new architecture is one more row in ARCHITECTURES.
 */
import { BgeGgufError, CorruptModelError } from '../errors.js';
import { GgufValueType, type GgufFile, type GgufTensorInfo, type GgufValue } from './types.js';

/** The hyper-parameters tensor shapes are written in. */
export interface Dims {
  embd: number;
  layers: number;
  heads: number;
  headsKv: number;
  headK: number;
  headV: number;
  ff: number;
  ctx: number;
  vocab: number;
  tokenTypes: number;
}

type Shape = (d: Dims) => number[];

interface TensorRule {
  /** `{i}` stands for the layer number. */
  name: string;
  shape: Shape;
  optional?: boolean;
  /** Only F32 works (norm weights, biases: ggml's element-wise ops need float rows). */
  float32?: boolean;
}

export interface ArchRule {
  /** The key (after `{arch}.`) of the norm epsilon the graph uses. */
  normEpsKey: string;
  /** Width of the query projection. */
  queryWidth: (d: Dims) => number;
  /** The graph reshapes n_embd-wide activations into heads: heads × head size must equal n_embd. */
  headsSpanEmbedding: boolean;
  /** RoPE over the whole head (llama.cpp's graphs for these architectures assume it). */
  usesRope: boolean;
  tokenizers: readonly string[];
  tensors: readonly TensorRule[];
  layerTensors: readonly TensorRule[];
}

const vec = (name: string, optional = false): TensorRule => ({ name, shape: (d) => [d.embd], float32: true, optional });
const q = (d: Dims) => d.headK * d.heads;
const kv = (d: Dims) => d.headK * d.headsKv;
const kvV = (d: Dims) => d.headV * d.headsKv;
const QKV: TensorRule[] = [
  { name: 'blk.{i}.attn_q.weight', shape: (d) => [d.embd, q(d)] },
  { name: 'blk.{i}.attn_k.weight', shape: (d) => [d.embd, kv(d)] },
  { name: 'blk.{i}.attn_v.weight', shape: (d) => [d.embd, kvV(d)] },
  { name: 'blk.{i}.attn_q.bias', shape: (d) => [q(d)], optional: true, float32: true },
  { name: 'blk.{i}.attn_k.bias', shape: (d) => [kv(d)], optional: true, float32: true },
  { name: 'blk.{i}.attn_v.bias', shape: (d) => [kvV(d)], optional: true, float32: true },
];
const GATED_FFN: TensorRule[] = [
  { name: 'blk.{i}.ffn_gate.weight', shape: (d) => [d.embd, d.ff] },
  { name: 'blk.{i}.ffn_up.weight', shape: (d) => [d.embd, d.ff] },
  { name: 'blk.{i}.ffn_down.weight', shape: (d) => [d.ff, d.embd] },
];
const DECODER_TOP: TensorRule[] = [
  { name: 'token_embd.weight', shape: (d) => [d.embd, d.vocab] },
  vec('output_norm.weight'),
  { name: 'output.weight', shape: (d) => [d.embd, d.vocab], optional: true },
];

/** Tensor lists from llama.cpp's src/models/<arch>.cpp (load_arch_tensors). */
export const ARCHITECTURES: Record<string, ArchRule> = {
  bert: {
    normEpsKey: 'attention.layer_norm_epsilon',
    queryWidth: (d) => d.embd,
    headsSpanEmbedding: true,
    usesRope: false,
    tokenizers: ['bert', 't5', 'gpt2'],
    tensors: [
      { name: 'token_embd.weight', shape: (d) => [d.embd, d.vocab] },
      { name: 'token_types.weight', shape: (d) => [d.embd, d.tokenTypes], optional: true, float32: true },
      { name: 'position_embd.weight', shape: (d) => [d.embd, d.ctx] },
      vec('token_embd_norm.weight'),
      vec('token_embd_norm.bias'),
    ],
    layerTensors: [
      ...QKV,
      { name: 'blk.{i}.attn_output.weight', shape: (d) => [d.embd, d.embd] },
      vec('blk.{i}.attn_output.bias', true),
      vec('blk.{i}.attn_output_norm.weight'),
      vec('blk.{i}.attn_output_norm.bias'),
      { name: 'blk.{i}.ffn_up.weight', shape: (d) => [d.embd, d.ff] },
      { name: 'blk.{i}.ffn_up.bias', shape: (d) => [d.ff], optional: true, float32: true },
      { name: 'blk.{i}.ffn_down.weight', shape: (d) => [d.ff, d.embd] },
      vec('blk.{i}.ffn_down.bias', true),
      vec('blk.{i}.layer_output_norm.weight'),
      vec('blk.{i}.layer_output_norm.bias'),
    ],
  },
  llama: {
    normEpsKey: 'attention.layer_norm_rms_epsilon',
    queryWidth: q,
    headsSpanEmbedding: false,
    usesRope: true,
    tokenizers: ['llama', 'gpt2'],
    tensors: DECODER_TOP,
    layerTensors: [
      vec('blk.{i}.attn_norm.weight'),
      ...QKV,
      { name: 'blk.{i}.attn_output.weight', shape: (d) => [q(d), d.embd] },
      vec('blk.{i}.ffn_norm.weight'),
      ...GATED_FFN,
    ],
  },
  qwen2: {
    normEpsKey: 'attention.layer_norm_rms_epsilon',
    queryWidth: (d) => d.embd,
    headsSpanEmbedding: true,
    usesRope: true,
    tokenizers: ['gpt2'],
    tensors: [...DECODER_TOP, { name: 'output.bias', shape: (d) => [d.vocab], optional: true, float32: true }],
    layerTensors: [
      vec('blk.{i}.attn_norm.weight'),
      ...QKV,
      { name: 'blk.{i}.attn_output.weight', shape: (d) => [d.embd, d.embd] },
      vec('blk.{i}.ffn_norm.weight'),
      ...GATED_FFN,
    ],
  },
  gemma2: {
    normEpsKey: 'attention.layer_norm_rms_epsilon',
    queryWidth: q,
    headsSpanEmbedding: false,
    usesRope: true,
    tokenizers: ['llama', 'gemma4'],
    tensors: DECODER_TOP.filter((t) => t.name !== 'output.weight'),
    layerTensors: [
      vec('blk.{i}.attn_norm.weight'),
      ...QKV,
      { name: 'blk.{i}.attn_output.weight', shape: (d) => [q(d), d.embd] },
      vec('blk.{i}.post_attention_norm.weight'),
      vec('blk.{i}.ffn_norm.weight'),
      ...GATED_FFN,
      vec('blk.{i}.post_ffw_norm.weight'),
    ],
  },
};

const LLAMA_MAX_LAYERS = 512;
const TENSOR_ALIGNMENT = 32;
/** llama.cpp's enum llama_token_type: UNDEFINED 0 … BYTE 6. */
const TOKEN_TYPE_BYTE = 6;
const ROPE_SCALING_TYPES = ['none', 'linear', 'yarn', 'longrope'];
/** ggml types gguf.cpp accepts, with their block sizes (elements per block). */
const GGML_BLOCK: Record<number, number> = {
  0: 1, 1: 1, 2: 32, 3: 32, 6: 32, 7: 32, 8: 32, 9: 32, 10: 256, 11: 256, 12: 256, 13: 256, 14: 256, 15: 256,
  16: 256, 17: 256, 18: 256, 19: 256, 20: 32, 21: 256, 22: 256, 23: 256, 24: 1, 25: 1, 26: 1, 27: 1, 28: 1, 29: 256,
  30: 1, 34: 256, 35: 256, 39: 32, 40: 64, 41: 128, 42: 128,
};
/** I8, I16, I32, I64, F64. */
const NON_WEIGHT_TYPES = new Set([24, 25, 26, 27, 28]);
/** Special-token keys llama.cpp reads (llama-vocab.cpp), each an id into tokenizer.ggml.tokens. */
const SPECIAL_IDS = ['bos', 'eos', 'eot', 'eom', 'unknown', 'seperator', 'padding', 'mask', 'cls', 'fim_pre', 'fim_suf', 'fim_mid', 'fim_pad', 'fim_rep', 'fim_sep', 'prefix', 'suffix', 'middle'];

/** llama.cpp's special-token defaults per tokenizer (llama-vocab.cpp, load); absent = none. */
const TOKENIZER_DEFAULT_IDS: Record<string, Record<string, number>> = {
  bert: { bos: 101, seperator: 102, unknown: 100 },
  llama: { bos: 1, eos: 2, unknown: 0 },
  gpt2: { bos: 11, eos: 11 },
  t5: { eos: 1, unknown: 2 },
};

const INTEGER_TYPES = new Set([GgufValueType.UINT8, GgufValueType.INT8, GgufValueType.UINT16, GgufValueType.INT16, GgufValueType.UINT32, GgufValueType.INT32, GgufValueType.UINT64, GgufValueType.INT64]);
const FLOAT_TYPES = new Set([GgufValueType.FLOAT32, GgufValueType.FLOAT64]);

class Checker {
  constructor(readonly file: GgufFile, readonly path: string, readonly arch: string) {}

  fail(field: string, problem: string): never {
    throw new CorruptModelError(this.path, field, problem);
  }

  get(key: string): GgufValue | undefined {
    return this.file.metadata.get(key);
  }

  /** An integer scalar (or, with `perLayer`, an array of `perLayer` equal integers) in [min, max]. */
  int(key: string, min: number, max: number, fallback?: number, perLayer?: number): number {
    const v = this.get(key);
    if (v === undefined) {
      if (fallback === undefined) this.fail(key, 'is missing');
      return fallback;
    }
    let n: unknown = v.value;
    if (v.type === GgufValueType.ARRAY && perLayer !== undefined && INTEGER_TYPES.has(v.itemType)) {
      if (v.value.length !== perLayer) this.fail(key, `has ${v.value.length} per-layer values for ${perLayer} layers`);
      if (v.value.some((x) => x !== v.value[0])) this.fail(key, 'differs between layers, which this architecture does not support');
      n = v.value[0];
    } else if (!INTEGER_TYPES.has(v.type)) {
      this.fail(key, `must be an integer, not ${GgufValueType[v.type] ?? `type ${v.type}`}`);
    }
    const num = typeof n === 'bigint' ? Number(n) : (n as number);
    if (!(num >= min && num <= max)) this.fail(key, `is ${String(n)}, outside ${min}..${max}`);
    return num;
  }

  /** A finite float scalar with `ok(value)`. */
  float(key: string, ok: (x: number) => boolean, expected: string, required: boolean): void {
    const v = this.get(key);
    if (v === undefined) {
      if (required) this.fail(key, 'is missing');
      return;
    }
    if (!FLOAT_TYPES.has(v.type)) this.fail(key, `must be a float, not ${GgufValueType[v.type] ?? `type ${v.type}`}`);
    const x = v.value as number;
    if (!Number.isFinite(x) || !ok(x)) this.fail(key, `is ${x}; it must be ${expected}`);
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.get(key);
    if (v === undefined) return fallback;
    if (v.type !== GgufValueType.BOOL) this.fail(key, `must be a bool, not ${GgufValueType[v.type] ?? `type ${v.type}`}`);
    return v.value as boolean;
  }

  str(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (v.type !== GgufValueType.STRING) this.fail(key, `must be a string, not ${GgufValueType[v.type] ?? `type ${v.type}`}`);
    return v.value as string;
  }

  array(key: string, itemTypes: GgufValueType[], minLength: number): Array<string | number | bigint | boolean> | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (v.type !== GgufValueType.ARRAY || !itemTypes.includes(v.itemType)) {
      this.fail(key, `must be an array of ${itemTypes.map((t) => GgufValueType[t]).join(' or ')}`);
    }
    if (v.value.length < minLength) this.fail(key, `has ${v.value.length} items; ${minLength} expected`);
    return v.value;
  }
}

/** Architecture row for a GGUF, or UNSUPPORTED_MODEL. */
export function architectureOf(file: GgufFile, path: string): { arch: string; rule: ArchRule } {
  const v = file.metadata.get('general.architecture');
  if (!v) throw new CorruptModelError(path, 'general.architecture', 'is missing');
  if (v.type !== GgufValueType.STRING) throw new CorruptModelError(path, 'general.architecture', 'must be a string');
  const arch = v.value as string;
  const rule = Object.hasOwn(ARCHITECTURES, arch) ? ARCHITECTURES[arch] : undefined;
  if (!rule) {
    throw new BgeGgufError(
      'UNSUPPORTED_MODEL',
      `${path}: architecture "${arch}" is not one bge-gguf embeds with (supported: ${Object.keys(ARCHITECTURES).join(', ')})`,
    );
  }
  return { arch, rule };
}

function checkHyperParameters(c: Checker, rule: ArchRule): Omit<Dims, 'vocab' | 'tokenTypes'> {
  const a = (key: string) => `${c.arch}.${key}`;
  const layers = c.int(a('block_count'), 1, LLAMA_MAX_LAYERS);
  const embd = c.int(a('embedding_length'), 1, 1 << 20);
  const ctx = c.int(a('context_length'), 1, 1 << 24);
  // no output projection in these architectures: the pooled rows are n_embd wide
  const embdOut = c.int(a('embedding_length_out'), 0, 1 << 20, 0);
  if (embdOut !== 0 && embdOut !== embd) c.fail(a('embedding_length_out'), `(${embdOut}) must equal embedding_length (${embd}) for ${c.arch}`);
  const ff = c.int(a('feed_forward_length'), 1, 1 << 22, undefined, layers);
  const heads = c.int(a('attention.head_count'), 1, embd, undefined, layers);
  const headsKv = c.int(a('attention.head_count_kv'), 1, heads, heads, layers);
  if (heads % headsKv !== 0) c.fail(a('attention.head_count_kv'), `(${headsKv}) must divide the head count (${heads})`);
  if (embd % heads !== 0 && rule.headsSpanEmbedding) c.fail(a('attention.head_count'), `(${heads}) must divide embedding_length (${embd})`);
  const headK = c.int(a('attention.key_length'), 1, 1 << 16, Math.floor(embd / heads));
  const headV = c.int(a('attention.value_length'), 1, 1 << 16, Math.floor(embd / heads));
  if (headK !== headV) c.fail(a('attention.value_length'), `(${headV}) must equal attention.key_length (${headK})`);
  if (rule.headsSpanEmbedding && headK * heads !== embd) c.fail(a('attention.key_length'), `(${headK}) × ${heads} heads must equal embedding_length (${embd})`);
  if (rule.queryWidth({ embd, layers, heads, headsKv, headK, headV, ff, ctx, vocab: 0, tokenTypes: 0 }) < 1) c.fail(a('attention.key_length'), 'gives an empty query');
  if (rule.usesRope) {
    const rot = c.int(a('rope.dimension_count'), 1, headK, headK);
    if (rot !== headK) c.fail(a('rope.dimension_count'), `(${rot}) must equal the head size (${headK})`);
    if (rot % 2 !== 0) c.fail(a('rope.dimension_count'), `(${rot}) must be even`);
  }
  c.float(a(rule.normEpsKey), (x) => x > 0, 'a finite number > 0', true);
  c.float(a('rope.freq_base'), (x) => x > 0, 'a finite number > 0', false);
  c.float(a('rope.scaling.factor'), (x) => x >= 0, 'a finite number >= 0', false);
  c.float(a('attn_logit_softcapping'), (x) => x > 0, 'a finite number > 0', false);
  c.float(a('final_logit_softcapping'), (x) => x > 0, 'a finite number > 0', false);
  const scaling = c.str(a('rope.scaling.type'));
  if (scaling !== undefined && !ROPE_SCALING_TYPES.includes(scaling)) c.fail(a('rope.scaling.type'), `is "${scaling}", not one of ${ROPE_SCALING_TYPES.join(', ')}`);
  c.int(a('attention.sliding_window'), 1, 1 << 30, 1);
  // dense architectures: mixture-of-experts and multi-token-prediction keys must be absent or zero
  for (const key of ['expert_count', 'expert_used_count', 'expert_group_count', 'expert_group_used_count', 'nextn_predict_layers']) {
    c.int(a(key), 0, 0, 0, layers);
  }
  c.int(a('pooling_type'), 0, 4, 0);
  c.bool(a('attention.causal'), true);
  return { embd, layers, heads, headsKv, headK, headV, ff, ctx };
}

function checkTokenizer(c: Checker, rule: ArchRule): { vocab: number; tokenTypes: number } {
  const model = c.str('tokenizer.ggml.model');
  if (model === undefined) c.fail('tokenizer.ggml.model', 'is missing');
  if (!rule.tokenizers.includes(model)) {
    throw new BgeGgufError('UNSUPPORTED_MODEL', `${c.path}: tokenizer "${model}" is not one bge-gguf supports for ${c.arch} (${rule.tokenizers.join(', ')})`);
  }
  const tokens = c.array('tokenizer.ggml.tokens', [GgufValueType.STRING], 1);
  if (!tokens) c.fail('tokenizer.ggml.tokens', 'is missing');
  const n = tokens.length;
  if (n > 0x7fffffff) c.fail('tokenizer.ggml.tokens', `has ${n} tokens`);
  // llama.cpp maps text → id and asserts both directions have the same size; an empty token is renamed
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const text = tokens[i] === '' ? `[EMPTY_${i}]` : (tokens[i] as string);
    if (seen.has(text)) c.fail(`tokenizer.ggml.tokens[${i}]`, `repeats the token ${JSON.stringify(text.slice(0, 40))}`);
    seen.add(text);
  }
  const scores = c.array('tokenizer.ggml.scores', [GgufValueType.FLOAT32, GgufValueType.INT32], n);
  if (scores) {
    for (let i = 0; i < n; i++) if (Number.isNaN(scores[i])) c.fail(`tokenizer.ggml.scores[${i}]`, 'is NaN');
  }
  const types = c.array('tokenizer.ggml.token_type', [GgufValueType.INT32], n);
  if (types) {
    for (let i = 0; i < n; i++) {
      const type = types[i] as number;
      if (type >= 0 && type < TOKEN_TYPE_BYTE) continue;
      if (type !== TOKEN_TYPE_BYTE) c.fail(`tokenizer.ggml.token_type[${i}]`, `is ${type}, not a llama.cpp token type (0..6)`);
      // byte tokens are decoded from their text "<0xXX>"; a WordPiece vocabulary has none
      if (model === 'bert' || !/^<0x[0-9A-Fa-f]{2}>$/.test(tokens[i] as string)) {
        c.fail(`tokenizer.ggml.token_type[${i}]`, `marks ${JSON.stringify(String(tokens[i]).slice(0, 20))} as a byte token`);
      }
    }
  }
  for (const name of SPECIAL_IDS) c.int(`tokenizer.ggml.${name}_token_id`, 0, n - 1, 0);
  // ids the tokenizer inserts (llama.cpp asserts they exist): the key, else llama.cpp's default for this tokenizer
  const needed = (name: string) => {
    const key = `tokenizer.ggml.${name}_token_id`;
    if (c.get(key)) return; // in range, checked above
    const fallback = TOKENIZER_DEFAULT_IDS[model]?.[name];
    if (fallback === undefined || fallback >= n) c.fail(key, `is missing and the tokenizer has no default for it within the ${n}-token vocabulary`);
  };
  if (model === 'bert') {
    needed('bos'); // [CLS]
    needed('seperator'); // [SEP]
    needed('unknown');
  } else {
    if (c.bool('tokenizer.ggml.add_bos_token', model === 'llama')) needed('bos');
    if (c.bool('tokenizer.ggml.add_eos_token', false)) needed('eos');
  }
  const tokenTypes = c.int('tokenizer.ggml.token_type_count', 0, 1 << 16, 0);
  if (c.arch === 'bert' && tokenTypes < 1) c.fail('tokenizer.ggml.token_type_count', 'must be at least 1 for a BERT model');
  return { vocab: n, tokenTypes };
}

const sameShape = (actual: number[], expected: number[]): boolean => {
  const trim = (s: number[]) => {
    const out = [...s];
    while (out.length > 1 && out[out.length - 1] === 1) out.pop();
    return out;
  };
  const a = trim(actual);
  const e = trim(expected);
  return a.length === e.length && a.every((x, i) => x === e[i]);
};

function checkTensors(c: Checker, rule: ArchRule, d: Dims): void {
  const byName = new Map<string, GgufTensorInfo>();
  for (const t of c.file.tensors) {
    const field = `tensor ${t.name}`;
    if (byName.has(t.name)) c.fail(field, 'appears twice');
    byName.set(t.name, t);
    const block = GGML_BLOCK[t.type];
    if (block === undefined) c.fail(field, `has unknown ggml type ${t.type}`);
    if (t.shape.length < 1 || t.shape.some((x) => !(x >= 1))) c.fail(field, `has shape [${t.shape.join(', ')}]`);
    // integer and F64 tensors crash the CPU kernels (matrix products, get_rows) rather than failing
    if (NON_WEIGHT_TYPES.has(t.type)) c.fail(field, `has ggml type ${t.type} (integer or F64), which no weight of these architectures can have`);
    if (t.shape[0] % block !== 0) c.fail(field, `rows of ${t.shape[0]} do not fill whole ${block}-element blocks of its type`);
    // ggml requires 32-byte aligned tensor data (TENSOR_ALIGNMENT); mmap keeps file offsets
    if (t.offset % TENSOR_ALIGNMENT !== 0) c.fail(field, `data starts at byte ${t.offset}, not a multiple of ${TENSOR_ALIGNMENT} (general.alignment)`);
    const layer = /^blk\.(\d+)\./.exec(t.name);
    if (layer && Number(layer[1]) >= d.layers) c.fail(field, `belongs to layer ${layer[1]} but block_count is ${d.layers}`);
  }
  const check = (r: TensorRule, name: string) => {
    const t = byName.get(name);
    if (!t) {
      if (!r.optional) c.fail(`tensor ${name}`, 'is missing');
      return;
    }
    const expected = r.shape(d);
    if (!sameShape(t.shape, expected)) c.fail(`tensor ${name}`, `has shape [${t.shape.join(', ')}]; the hyper-parameters give [${expected.join(', ')}]`);
    if (r.float32 && t.type !== 0) c.fail(`tensor ${name}`, `must be F32, not ggml type ${t.type}`);
  };
  for (const r of rule.tensors) check(r, r.name);
  for (let i = 0; i < d.layers; i++) {
    const fused = byName.get(`blk.${i}.attn_qkv.weight`);
    for (const r of rule.layerTensors) {
      if (fused && /attn_[qkv]\.weight$/.test(r.name)) continue;
      check(r, r.name.replace('{i}', String(i)));
    }
    if (fused) {
      const width = rule.queryWidth(d) + d.headK * d.headsKv + d.headV * d.headsKv;
      check({ name: '', shape: () => [d.embd, width] }, `blk.${i}.attn_qkv.weight`);
    }
  }
}

/**
 * Throws CORRUPT_MODEL (naming the field) when the header would make llama.cpp abort or load
 * garbage, UNSUPPORTED_MODEL for an architecture or tokenizer outside the table.
 */
export function validateGguf(file: GgufFile, path: string): void {
  const { arch, rule } = architectureOf(file, path);
  const c = new Checker(file, path, arch);
  const hp = checkHyperParameters(c, rule);
  const vocab = checkTokenizer(c, rule);
  checkTensors(c, rule, { ...hp, ...vocab });
}
