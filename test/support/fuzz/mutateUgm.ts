/**
 * Mutations of a SentencePiece-unigram (UGM, tokenizer.ggml.model "t5") vocabulary that the generic
 * ones rarely reach: the precompiled charsmap's inner structure (its declared trie size, trie units,
 * unterminated replacements, random blobs), whole-array edits of scores and token types, the
 * whitespace flags and the special ids. llama.cpp's UGM tokenizer walks the charsmap only when our
 * own Unigram tokenizer steps aside (add_space_prefix or remove_extra_whitespaces false, or a
 * vocabulary not starting with fairseq's <s> <pad> </s> <unk>), so a charsmap edit often comes with
 * such a switch.
 */
import { GgufValueType, type GgufValue } from '../../../src/gguf/types.js';
import type { Rng } from '../synthetic/random.js';
import type { GgufImage } from './image.js';

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)];
const CHARSMAP = 'tokenizer.ggml.precompiled_charsmap';
const U32_EDGES = [0, 1, 3, 4, 5, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff];

type ArrayValue = Extract<GgufValue, { type: GgufValueType.ARRAY }>;

function entry(image: GgufImage, key: string): [string, GgufValue] | undefined {
  return image.kvs.find(([k]) => k === key);
}

function setKey(image: GgufImage, key: string, value: GgufValue): void {
  const found = entry(image, key);
  if (found) found[1] = value;
  else image.kvs.push([key, value]);
}

function arrayOf(image: GgufImage, key: string): ArrayValue | undefined {
  const value = entry(image, key)?.[1];
  return value?.type === GgufValueType.ARRAY ? value : undefined;
}

/** The UGM images (a precompiled charsmap or a "t5" tokenizer); the other bases never draw these mutations. */
export function isUgm(image: GgufImage): boolean {
  return entry(image, 'tokenizer.ggml.model')?.[1].value === 't5' || entry(image, CHARSMAP) !== undefined;
}

const readU32 = (bytes: number[], at: number) => ((bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0);
function writeU32(bytes: number[], at: number, v: number): void {
  for (let k = 0; k < 4; k++) bytes[at + k] = (v >>> (8 * k)) & 0xff;
}

const offsetOf = (unit: number) => (unit >>> 10) << ((unit & 0x200) >>> 6);
/** Bytes the runner's texts start a charsmap walk with: ASCII, the lead bytes of full-width forms, accents, CJK, ligatures. */
const WALK_STARTS = ['a', 't', 'Ｔ', 'ï', '熊', 'ﬁ', '①', '\u0308'];

/** The trie units the charsmap's walk of `text` passes (the path of its longest key prefix). */
function walkUnits(bytes: readonly number[], trie: number, text: string): number[] {
  const units = Math.floor(Math.min(trie, bytes.length - 4) / 4);
  const path: number[] = [];
  let node = units > 0 ? offsetOf(readU32(bytes as number[], 4)) : 0;
  for (const c of Buffer.from(text, 'utf8')) {
    node ^= c;
    if (node >= units || (readU32(bytes as number[], 4 + node * 4) & 0x800000ff) >>> 0 !== c) break;
    path.push(node);
    node ^= offsetOf(readU32(bytes as number[], 4 + node * 4));
  }
  return path;
}

/** Kinds of corrupt unit: a BASE far past the array, the same as a leaf, a label with bit 31 (no match). */
export type WalkCorruption = 'far-base' | 'far-leaf' | 'label-bit31';

/**
 * Corrupts unit `depth` on the charsmap's walk of `text` (where random units rarely land); the unit's
 * index, or -1 when the walk is shorter.
 */
export function corruptCharsmapWalk(bytes: number[], text: string, depth: number, kind: WalkCorruption): number {
  const at = walkUnits(bytes, readU32(bytes, 0), text)[depth];
  if (at === undefined) return -1;
  const old = readU32(bytes, 4 + at * 4);
  const unit = kind === 'far-base' ? (0x1fffff << 10) | (old & 0xff) : kind === 'far-leaf' ? (0x1fffff << 10) | 0x100 | (old & 0xff) : 0x80000000 | old;
  writeU32(bytes, 4 + at * 4, unit >>> 0);
  return at;
}

function corruptWalk(rng: Rng, bytes: number[], trie: number): string {
  const text = pick(rng, WALK_STARTS);
  const depths = walkUnits(bytes, trie, text).length;
  if (depths === 0) return `${CHARSMAP} (no walk for ${JSON.stringify(text)}, unchanged)`;
  const kind = pick<WalkCorruption>(rng, ['far-base', 'far-leaf', 'label-bit31']);
  const at = corruptCharsmapWalk(bytes, text, rng.int(depths), kind);
  return `${CHARSMAP} unit ${at} on the walk of ${JSON.stringify(text)}: ${kind}`;
}

/** One edit of the charsmap's bytes (or of its type); returns its label. */
function mutateCharsmap(rng: Rng, image: GgufImage): string {
  const value = arrayOf(image, CHARSMAP);
  if (!value) {
    setKey(image, CHARSMAP, { type: GgufValueType.ARRAY, itemType: GgufValueType.UINT8, value: Array.from({ length: 4 + rng.int(64) }, () => rng.int(256)) });
    return `${CHARSMAP} added, random bytes`;
  }
  const bytes = value.value as number[];
  const trie = bytes.length >= 4 ? readU32(bytes, 0) : 0;
  const op = rng.int(12);
  switch (op) {
    case 10: case 11: return corruptWalk(rng, bytes, trie);
    case 0: {
      // the declared trie size: past the end, exactly at it, not a multiple of 4, huge
      const size = pick(rng, [...U32_EDGES, bytes.length - 4, bytes.length - 5, bytes.length - 3, bytes.length, trie + 1, trie - 4, trie + 4]);
      if (bytes.length >= 4) writeU32(bytes, 0, size >>> 0);
      return `${CHARSMAP} trie size ${size >>> 0} (of ${bytes.length} bytes)`;
    }
    case 1: {
      const cut = pick(rng, [0, 1, 2, 3, 4, 5, trie + 3, trie + 4, trie + 5, rng.int(bytes.length)]);
      bytes.length = Math.max(0, Math.min(bytes.length, cut));
      return `${CHARSMAP} cut to ${bytes.length} bytes`;
    }
    case 2: case 3: {
      // trie units: BASE offsets far out of the array, leaf flags, labels, replacement offsets past the end
      const units = Math.floor(Math.min(trie, bytes.length - 4) / 4);
      if (units < 1) return `${CHARSMAP} (no trie units, unchanged)`;
      const count = 1 + rng.int(op === 2 ? 4 : 400);
      for (let k = 0; k < count; k++) {
        const unit = k === 0 && rng.int(3) === 0 ? 0 : rng.int(units);
        writeU32(bytes, 4 + unit * 4, pick(rng, [rng.nextUint32(), ...U32_EDGES, 0x7ffffc00, 0x100 | rng.int(256), rng.nextUint32() | 0x200]));
      }
      return `${CHARSMAP} ${count} trie units overwritten`;
    }
    case 4: {
      // replacements without their NUL terminators: a matched prefix reads to the end of the blob
      let changed = 0;
      for (let i = 4 + trie; i < bytes.length; i++) if (bytes[i] === 0) { bytes[i] = 0x41; changed++; }
      return `${CHARSMAP} ${changed} replacement terminators removed`;
    }
    case 5: {
      const flips = 1 + rng.int(32);
      for (let f = 0; f < flips; f++) bytes[rng.int(Math.max(1, bytes.length))] = rng.int(256);
      return `${CHARSMAP} ${flips} random bytes`;
    }
    case 6: {
      // a small random blob with a plausible header
      const length = pick(rng, [4, 5, 8, 9, 64, 1024]);
      const blob = Array.from({ length }, () => rng.int(256));
      writeU32(blob, 0, pick(rng, [0, 4, length - 4, length - 5, length - 8, rng.nextUint32()]) >>> 0);
      value.value = blob;
      return `${CHARSMAP} replaced by ${length} random bytes (trie size ${readU32(blob, 0)})`;
    }
    case 7: value.value = []; return `${CHARSMAP} empty`;
    case 8: {
      value.itemType = pick(rng, [GgufValueType.INT8, GgufValueType.UINT16, GgufValueType.INT32, GgufValueType.FLOAT32, GgufValueType.STRING, GgufValueType.BOOL]);
      if (value.itemType === GgufValueType.STRING) value.value = bytes.slice(0, 64).map(String);
      else if (value.itemType !== GgufValueType.INT8) value.value = bytes.slice(0, 4096);
      return `${CHARSMAP} items retyped ${GgufValueType[value.itemType]}`;
    }
    default: {
      const scalar = pick<GgufValue>(rng, [
        { type: GgufValueType.STRING, value: 'precompiled' },
        { type: GgufValueType.UINT32, value: bytes.length },
        { type: GgufValueType.BOOL, value: true },
      ]);
      setKey(image, CHARSMAP, scalar);
      return `${CHARSMAP} = ${String(scalar.value)} (${GgufValueType[scalar.type]})`;
    }
  }
}

/** Makes llama.cpp's UGM tokenizer do the tokenizing (and walk the charsmap) instead of ours. */
function bypassOwnTokenizer(rng: Rng, image: GgufImage): string {
  const op = rng.int(3);
  if (op === 0) { setKey(image, 'tokenizer.ggml.add_space_prefix', { type: GgufValueType.BOOL, value: false }); return 'add_space_prefix false'; }
  if (op === 1) { setKey(image, 'tokenizer.ggml.remove_extra_whitespaces', { type: GgufValueType.BOOL, value: false }); return 'remove_extra_whitespaces false'; }
  const tokens = arrayOf(image, 'tokenizer.ggml.tokens');
  if (tokens && tokens.value.length > 0) tokens.value[0] = '<bos>';
  return 'tokens[0] = "<bos>"';
}

function mutateScores(rng: Rng, image: GgufImage): string {
  const key = 'tokenizer.ggml.scores';
  const value = arrayOf(image, key);
  if (!value) return `${key} (absent, unchanged)`;
  const items = value.value as number[];
  const op = rng.int(6);
  if (op === 0) { items.length = pick(rng, [0, 1, Math.max(0, items.length - 1)]); return `${key} cut to ${items.length}`; }
  if (op === 1) { items.push(0, -1); return `${key} grown to ${items.length}`; }
  if (op === 2) {
    const fill = pick(rng, [NaN, Infinity, -Infinity, 0, 3.4e38, -3.4e38]);
    items.fill(fill);
    return `${key} all ${fill}`;
  }
  if (op === 3) {
    const fill = pick(rng, [Infinity, -Infinity, -3.4e38, 3.4e38]);
    const count = 1 + rng.int(50);
    for (let k = 0; k < count; k++) items[4 + rng.int(Math.max(1, items.length - 4))] = fill;
    return `${key}: ${count} normal pieces ${fill}`;
  }
  if (op === 4) { value.itemType = pick(rng, [GgufValueType.INT32, GgufValueType.FLOAT64, GgufValueType.UINT8, GgufValueType.STRING]); return `${key} items retyped ${GgufValueType[value.itemType]}`; }
  setKey(image, key, { type: GgufValueType.FLOAT32, value: -1 });
  return `${key} a float scalar`;
}

function mutateTokenTypes(rng: Rng, image: GgufImage): string {
  const key = 'tokenizer.ggml.token_type';
  const value = arrayOf(image, key);
  if (!value) return `${key} (absent, unchanged)`;
  const items = value.value as number[];
  const op = rng.int(5);
  if (op === 0) {
    // every token one type: all unused (no pieces), all control, all unknown, all user-defined
    const type = pick(rng, [2, 3, 4, 5]);
    items.fill(type);
    return `${key} all ${type}`;
  }
  if (op === 1) {
    const id = rng.int(Math.min(4, items.length));
    items[id] = pick(rng, [1, 2, 3, 4, 5]);
    return `${key}[${id}] (a special token) = ${items[id]}`;
  }
  if (op === 2) {
    const type = pick(rng, [2, 3, 5]);
    for (let k = 0; k < 200; k++) items[rng.int(items.length)] = type;
    return `${key}: 200 random tokens ${type}`;
  }
  if (op === 3) { items.length = Math.max(0, items.length - 1 - rng.int(3)); return `${key} cut to ${items.length}`; }
  value.itemType = pick(rng, [GgufValueType.UINT8, GgufValueType.UINT32, GgufValueType.FLOAT32]);
  return `${key} items retyped ${GgufValueType[value.itemType]}`;
}

function mutateFlags(rng: Rng, image: GgufImage): string {
  const key = pick(rng, ['tokenizer.ggml.add_space_prefix', 'tokenizer.ggml.remove_extra_whitespaces', 'tokenizer.ggml.add_bos_token', 'tokenizer.ggml.add_eos_token']);
  const value = pick<GgufValue | null>(rng, [
    { type: GgufValueType.BOOL, value: false },
    { type: GgufValueType.BOOL, value: true },
    { type: GgufValueType.UINT8, value: 2 },
    { type: GgufValueType.UINT32, value: 0 },
    { type: GgufValueType.STRING, value: 'false' },
    null,
  ]);
  if (value === null) {
    image.kvs = image.kvs.filter(([k]) => k !== key);
    return `removed ${key}`;
  }
  setKey(image, key, value);
  return `${key} = ${String(value.value)} (${GgufValueType[value.type]})`;
}

function mutateSpecialId(rng: Rng, image: GgufImage): string {
  const n = arrayOf(image, 'tokenizer.ggml.tokens')?.value.length ?? 0;
  const key = `tokenizer.ggml.${pick(rng, ['unknown', 'bos', 'eos', 'seperator', 'padding', 'mask'])}_token_id`;
  const id = pick(rng, [n, n + 1, n - 1, 0, 1, 3, 4, 0xffffffff, 0x7fffffff]);
  setKey(image, key, { type: pick(rng, [GgufValueType.UINT32, GgufValueType.INT32]), value: id >>> 0 } as GgufValue);
  return `${key} = ${id >>> 0}`;
}

/** One UGM-specific edit; returns its label. */
export function mutateUgm(rng: Rng, image: GgufImage): string {
  const r = rng.int(100);
  if (r < 30) return mutateCharsmap(rng, image);
  if (r < 50) return `${bypassOwnTokenizer(rng, image)}; ${mutateCharsmap(rng, image)}`;
  if (r < 62) return mutateScores(rng, image);
  if (r < 72) return mutateTokenTypes(rng, image);
  if (r < 78) return `${bypassOwnTokenizer(rng, image)}; ${rng.int(2) ? mutateScores(rng, image) : mutateTokenTypes(rng, image)}`;
  if (r < 90) return mutateFlags(rng, image);
  return mutateSpecialId(rng, image);
}
