/**
 * Seeded mutations of a GGUF image: metadata values (edge numbers, wrong types, removed and added
 * keys), tokenizer arrays, tensor infos (shapes, types, offsets, names), header fields, byte flips
 * and truncation; on a UGM (XLM-R) base also the SentencePiece-unigram edits of mutateUgm.ts.
 * mutation(base, seed, index) is a pure function: a case is named by its index.
 */
import { GgufValueType, type GgufValue } from '../../../src/gguf/types.js';
import { deriveSeed, Rng } from '../synthetic/random.js';
import { cloneImage, serializeImage, type GgufImage } from './image.js';
import { isUgm, mutateUgm } from './mutateUgm.js';

export interface Mutation {
  label: string;
  bytes: Buffer;
}

type Scalar = string | number | bigint | boolean;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)];

const INTS = [0, 1, 2, 3, 7, 63, 64, 65, 100, 511, 512, 513, 4096, 1e6, 0x7fffffff, 0x80000000, 0xffffffff, -1, -2, -100];
const FLOATS = [NaN, Infinity, -Infinity, 0, -0, -1e-5, -1, 1e-45, 1e30, 3.4e38, 1, 0.5];
const STRINGS = ['', 'bert', 'llama', 'gpt2', 'nomic-bert', 'qwen2', 'gemma2', 'no-such-thing', '\u0000', 'ÿÿÿ', 'x'.repeat(300)];
const TOKEN_TYPES = [-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 100, 0x7fffffff, -0x80000000];

/** Keys llama.cpp reads for these architectures that the base files do not carry. */
function extraKeys(arch: string): string[] {
  return [
    `${arch}.attention.head_count_kv`, `${arch}.attention.key_length`, `${arch}.attention.value_length`,
    `${arch}.rope.dimension_count`, `${arch}.rope.freq_base`, `${arch}.rope.scaling.type`, `${arch}.rope.scaling.factor`,
    `${arch}.expert_count`, `${arch}.expert_used_count`, `${arch}.expert_group_count`, `${arch}.embedding_length_out`,
    `${arch}.nextn_predict_layers`, `${arch}.attention.sliding_window`, `${arch}.attention.layer_norm_epsilon`,
    `${arch}.attention.layer_norm_rms_epsilon`, `${arch}.pooling_type`, `${arch}.attention.causal`, `${arch}.vocab_size`,
    'tokenizer.ggml.token_type_count', 'tokenizer.ggml.bos_token_id', 'tokenizer.ggml.eos_token_id', 'tokenizer.ggml.unknown_token_id',
    'tokenizer.ggml.seperator_token_id', 'tokenizer.ggml.padding_token_id', 'tokenizer.ggml.mask_token_id', 'tokenizer.ggml.eot_token_id',
    'tokenizer.ggml.pre', 'tokenizer.ggml.add_bos_token', 'tokenizer.ggml.add_eos_token', 'tokenizer.ggml.merges',
    'general.alignment', 'general.architecture', 'tokenizer.ggml.model', 'tokenizer.ggml.precompiled_charsmap',
    'classifier.output_labels', `${arch}.classifier.output_labels`,
  ];
}

function numericTypes(): GgufValueType[] {
  return [GgufValueType.UINT8, GgufValueType.INT8, GgufValueType.UINT16, GgufValueType.INT16, GgufValueType.UINT32,
    GgufValueType.INT32, GgufValueType.UINT64, GgufValueType.INT64, GgufValueType.FLOAT32, GgufValueType.FLOAT64];
}

/** Any value of any type: the shape a fuzzer gives a key it adds or retypes. */
function randomValue(rng: Rng, near?: Scalar): GgufValue {
  const kind = rng.int(10);
  if (kind < 4) return { type: pick(rng, [GgufValueType.UINT32, GgufValueType.INT32, GgufValueType.UINT64, GgufValueType.INT64]), value: pick(rng, INTS) } as GgufValue;
  if (kind < 5) return { type: GgufValueType.FLOAT32, value: pick(rng, FLOATS) };
  if (kind < 6) return { type: GgufValueType.STRING, value: pick(rng, STRINGS) };
  if (kind < 7) return { type: GgufValueType.BOOL, value: rng.int(2) === 1 };
  if (kind < 8) return { type: pick(rng, numericTypes()), value: typeof near === 'number' ? near : rng.int(300) } as GgufValue;
  const itemType = pick(rng, [GgufValueType.UINT32, GgufValueType.INT32, GgufValueType.FLOAT32, GgufValueType.STRING]);
  const length = pick(rng, [0, 1, 2, 3, 513]);
  const item = () => (itemType === GgufValueType.STRING ? pick(rng, STRINGS) : itemType === GgufValueType.FLOAT32 ? pick(rng, FLOATS) : pick(rng, INTS));
  return { type: GgufValueType.ARRAY, itemType, value: Array.from({ length }, item) };
}

/** A new value of the same type as `value`, biased to edges and to values near the original. */
function edgeValue(rng: Rng, value: GgufValue): GgufValue {
  if (rng.int(6) === 0) return randomValue(rng, value.value as Scalar);
  switch (value.type) {
    case GgufValueType.STRING: return { ...value, value: pick(rng, STRINGS) };
    case GgufValueType.BOOL: return { ...value, value: !value.value };
    case GgufValueType.FLOAT32: case GgufValueType.FLOAT64: return { ...value, value: pick(rng, FLOATS) };
    case GgufValueType.ARRAY: return value;
    default: {
      const v = Number(value.value);
      const near = [v + 1, v - 1, v * 2, Math.floor(v / 2), v * 1000];
      return { ...value, value: rng.int(3) === 0 ? pick(rng, near) : pick(rng, INTS) } as GgufValue;
    }
  }
}

function mutateArray(rng: Rng, key: string, value: Extract<GgufValue, { type: GgufValueType.ARRAY }>): string {
  const items = value.value;
  const i = rng.int(Math.max(1, items.length));
  const op = rng.int(8);
  if (op === 0) { items.length = rng.int(items.length + 1); return `${key} cut to ${items.length} items`; }
  if (op === 1) { items.push(...items.slice(0, 1 + rng.int(4))); return `${key} grown to ${items.length}`; }
  if (op === 2) { value.itemType = pick(rng, [GgufValueType.UINT8, GgufValueType.INT32, GgufValueType.FLOAT32, GgufValueType.STRING, GgufValueType.UINT64]); return `${key} items retyped ${GgufValueType[value.itemType]}`; }
  if (items.length === 0) return `${key} (empty, unchanged)`;
  if (key.endsWith('token_type')) { items[i] = pick(rng, TOKEN_TYPES); return `${key}[${i}] = ${items[i]}`; }
  if (key.endsWith('scores')) { items[i] = pick(rng, FLOATS); return `${key}[${i}] = ${items[i]}`; }
  if (typeof items[i] === 'string') {
    const other = items[rng.int(items.length)];
    items[i] = op < 5 ? other : pick(rng, STRINGS);
    return `${key}[${i}] = ${JSON.stringify(String(items[i]).slice(0, 20))}`;
  }
  items[i] = typeof items[i] === 'number' ? pick(rng, INTS) : items[i];
  return `${key}[${i}] = ${items[i]}`;
}

/** [elements per block, bytes per block] of the types a re-laid-out tensor may take. */
const TYPE_LAYOUT: Record<number, [number, number]> = {
  0: [1, 4], 1: [1, 2], 2: [32, 18], 6: [32, 22], 8: [32, 34], 12: [256, 144], 14: [256, 210], 24: [1, 1], 25: [1, 2], 26: [1, 4], 28: [1, 8], 30: [1, 2],
};

const byteSize = (type: number, shape: Array<number | bigint>): number => {
  const [block, bytes] = TYPE_LAYOUT[type];
  return (shape.reduce<number>((a, d) => a * Number(d), 1) / block) * bytes;
};

/**
 * Gives a tensor another type and lays the data section out again, so the file stays consistent
 * for gguf's offset checks and llama.cpp gets as far as building and running the graph.
 */
function retype(rng: Rng, image: GgufImage): string {
  const target = image.tensors[rng.int(image.tensors.length)];
  const type = pick(rng, Object.keys(TYPE_LAYOUT).map(Number));
  const elements = target.shape.reduce<number>((a, d) => a * Number(d), 1);
  if (elements % TYPE_LAYOUT[type][0] !== 0) return `${target.name} type ${type} (rows not whole blocks, unchanged)`;
  if (!retypeTensor(image, target.name, type)) return `${target.name} type ${type} (shapes too large to lay out, unchanged)`;
  return `${target.name} retyped ${type}, data re-laid out`;
}

/**
 * Sets a tensor's type and lays the data section out again (each tensor's bytes cut or
 * zero-padded); false (nothing changed) when an earlier edit left shapes too large to lay out.
 */
export function retypeTensor(image: GgufImage, name: string, type: number): boolean {
  const oldSizes = image.tensors.map((t) => (TYPE_LAYOUT[t.type] ? byteSize(t.type, t.shape) : 0));
  const newSizes = image.tensors.map((t) => (TYPE_LAYOUT[t.name === name ? type : t.type] ? byteSize(t.name === name ? type : t.type, t.shape) : 0));
  if (newSizes.reduce((a, b) => a + b, 0) > 1 << 28 || !newSizes.every(Number.isSafeInteger)) return false;
  image.tensors.find((t) => t.name === name)!.type = type;
  const parts: Buffer[] = [];
  let at = 0;
  image.tensors.forEach((t, i) => {
    const size = TYPE_LAYOUT[t.type] ? byteSize(t.type, t.shape) : 0;
    const old = image.data.subarray(Number(t.rel), Number(t.rel) + oldSizes[i]);
    const bytes = Buffer.alloc(size);
    old.copy(bytes, 0, 0, Math.min(size, old.length));
    t.rel = at;
    const padded = Math.ceil(size / 32) * 32;
    parts.push(bytes, Buffer.alloc(padded - size));
    at += padded;
  });
  image.data = Buffer.concat(parts);
  return true;
}

const TENSOR_TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 16, 20, 24, 30, 31, 34, 39, 40, 41, 100, 0xffffffff];

function mutateTensor(rng: Rng, image: GgufImage): string {
  const index = rng.int(image.tensors.length);
  const t = image.tensors[index];
  const op = rng.int(9);
  const d = rng.int(Math.max(1, t.shape.length));
  switch (op) {
    case 0: case 1: {
      const v = Number(t.shape[d] ?? 1);
      t.shape[d] = pick(rng, [0, 1, v + 1, v - 1, v * 2, Math.max(1, v >> 1), 2 ** 31, 2 ** 40, 2n ** 63n, 2n ** 64n - 1n]);
      return `${t.name} shape[${d}] = ${t.shape[d]}`;
    }
    case 2: t.shape.reverse(); return `${t.name} shape reversed`;
    case 3: t.shape = rng.int(2) ? [...t.shape, 1] : t.shape.slice(0, -1); return `${t.name} rank ${t.shape.length}`;
    case 4: t.type = pick(rng, TENSOR_TYPES); return `${t.name} type ${t.type}`;
    case 5: {
      t.rel = pick(rng, [1, 31, 32, Number(t.rel) + 4, Number(t.rel) - 32, image.data.length, image.data.length - 4, 2 ** 40, 2n ** 64n - 32n]);
      return `${t.name} offset ${t.rel}`;
    }
    case 6: {
      const other = image.tensors[rng.int(image.tensors.length)];
      t.name = rng.int(2) ? other.name : pick(rng, ['', 'blk.9.attn_q.weight', 'blk.-1.attn_q.weight', 'x'.repeat(70), 'token_embd.weight', 'output.weight']);
      return `tensor ${index} renamed ${JSON.stringify(t.name.slice(0, 24))}`;
    }
    case 7: image.tensors.splice(index, 1); return `tensor ${t.name} removed`;
    default: image.tensors.push({ ...t, shape: [...t.shape] }); return `tensor ${t.name} duplicated`;
  }
}

function mutateHeader(rng: Rng, image: GgufImage): string {
  const op = rng.int(4);
  if (op === 0) { image.version = pick(rng, [0, 1, 2, 4, 0xffffffff]); return `version ${image.version}`; }
  if (op === 1) { image.tensorCount = pick(rng, [0, image.tensors.length - 1, image.tensors.length + 1, 2 ** 32, 2n ** 63n]); return `tensor count ${image.tensorCount}`; }
  if (op === 2) { image.kvCount = pick(rng, [0, image.kvs.length - 1, image.kvs.length + 1, 2 ** 32, 2n ** 63n]); return `kv count ${image.kvCount}`; }
  image.alignment = pick(rng, [1, 3, 8, 64, 1024]);
  image.kvs.push(['general.alignment', { type: GgufValueType.UINT32, value: image.alignment }]);
  return `alignment ${image.alignment}`;
}

/** One structural edit (a UGM one for 40% of a UGM base's edits); returns its label. */
function structural(rng: Rng, image: GgufImage, ugm: boolean): string {
  if (ugm && rng.int(100) < 40) return mutateUgm(rng, image);
  const arch = String(image.kvs.find(([k]) => k === 'general.architecture')?.[1].value ?? 'bert');
  const r = rng.int(100);
  const scalars = image.kvs.filter(([, v]) => v.type !== GgufValueType.ARRAY);
  const arrays = image.kvs.filter(([, v]) => v.type === GgufValueType.ARRAY);
  if (r < 30) {
    // hyper-parameters and tokenizer scalars: the keys llama.cpp asserts on
    const entry = pick(rng, scalars);
    entry[1] = edgeValue(rng, entry[1]);
    return `${entry[0]} = ${String(entry[1].type === GgufValueType.ARRAY ? `[${entry[1].value.length} items]` : entry[1].value).slice(0, 24)} (${GgufValueType[entry[1].type]})`;
  }
  if (r < 40) {
    const key = pick(rng, extraKeys(arch));
    const value = randomValue(rng);
    image.kvs.push([key, value]);
    return `added ${key} = ${String(value.type === GgufValueType.ARRAY ? `[${value.value.length}]` : value.value).slice(0, 24)} (${GgufValueType[value.type]})`;
  }
  if (r < 46) {
    const i = rng.int(image.kvs.length);
    const [key] = image.kvs.splice(i, 1)[0];
    return `removed ${key}`;
  }
  if (r < 62) {
    const entry = pick(rng, arrays);
    return mutateArray(rng, entry[0], entry[1] as Extract<GgufValue, { type: GgufValueType.ARRAY }>);
  }
  if (r < 80) return mutateTensor(rng, image);
  if (r < 88) return retype(rng, image);
  return mutateHeader(rng, image);
}

/**
 * Case `index` of the campaign `seed` against `base`; `stream` tells apart bases whose images
 * would otherwise draw the same edits (the XLM-R encoder is the reranker minus its head).
 */
export function mutation(base: GgufImage, seed: number, index: number, stream = ''): Mutation {
  const rng = new Rng(deriveSeed(seed, `${stream}case-${index}`));
  const kind = rng.int(100);
  if (kind < 8) {
    const bytes = serializeImage(base);
    const cut = rng.int(2) ? rng.int(4096) : rng.int(bytes.length);
    return { label: `truncated at ${cut}`, bytes: bytes.subarray(0, cut) };
  }
  if (kind < 22) {
    const bytes = Buffer.from(serializeImage(base));
    const headerEnd = bytes.length - base.data.length;
    const flips = 1 + rng.int(6);
    for (let f = 0; f < flips; f++) bytes[rng.int(headerEnd)] = rng.int(256);
    return { label: `${flips} header bytes changed`, bytes };
  }
  const image = cloneImage(base);
  const edits = kind < 85 ? 1 : 2 + rng.int(2);
  const labels: string[] = [];
  const ugm = isUgm(base);
  for (let e = 0; e < edits; e++) labels.push(structural(rng, image, ugm));
  return { label: labels.join('; '), bytes: serializeImage(image) };
}
