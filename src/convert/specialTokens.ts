/**
 * Special-token ids, add_*_token flags and normalizer flags, derived from tokenizer.json,
 * tokenizer_config.json and config.json with the rules gguf-py's SpecialVocab applies.
 */
import { gv, type GgufValue } from '../gguf/types.js';

const TYPES = ['bos', 'eos', 'unk', 'sep', 'pad', 'cls', 'mask'] as const;
type SpecialType = (typeof TYPES)[number] | 'eot' | 'eom';

/** GGUF keys for the special-token types llama.cpp reads (it has no key for cls). */
const ID_KEYS: Partial<Record<SpecialType, string>> = {
  bos: 'tokenizer.ggml.bos_token_id',
  eos: 'tokenizer.ggml.eos_token_id',
  unk: 'tokenizer.ggml.unknown_token_id',
  sep: 'tokenizer.ggml.seperator_token_id',
  pad: 'tokenizer.ggml.padding_token_id',
  mask: 'tokenizer.ggml.mask_token_id',
  eot: 'tokenizer.ggml.eot_token_id',
  eom: 'tokenizer.ggml.eom_token_id',
};

const ADD_KEYS: Partial<Record<SpecialType, string>> = {
  bos: 'tokenizer.ggml.add_bos_token',
  eos: 'tokenizer.ggml.add_eos_token',
  sep: 'tokenizer.ggml.add_sep_token',
};

export interface SpecialTokens {
  ids: Map<SpecialType, number>;
  add: Map<SpecialType, boolean>;
  lowercase: boolean | null;
  stripAccents: boolean | null;
}

type Json = Record<string, unknown>;

function specialId(step: unknown): unknown {
  return (step as { SpecialToken?: { id?: unknown } } | null)?.SpecialToken?.id;
}

function sequenceId(step: unknown): unknown {
  return (step as { Sequence?: { id?: unknown } } | null)?.Sequence?.id;
}

function parseNormalizer(n: unknown, out: SpecialTokens): void {
  const norm = n as Json | null;
  if (!norm || typeof norm !== 'object') return;
  if (norm.type === 'Lowercase') out.lowercase = true;
  else if (norm.type === 'StripAccents') out.stripAccents = true;
  else if (norm.type === 'BertNormalizer') {
    if ('lowercase' in norm) out.lowercase = typeof norm.lowercase === 'boolean' ? norm.lowercase : null;
    if ('strip_accents' in norm) out.stripAccents = typeof norm.strip_accents === 'boolean' ? norm.strip_accents : null;
  } else if (norm.type === 'Sequence' && Array.isArray(norm.normalizers)) {
    for (const inner of norm.normalizers) parseNormalizer(inner, out);
  }
}

/** The post-processor's [CLS] A [SEP] template tells which special tokens are added. */
function readTemplate(tmpl: Json, tc: Json | null, types: SpecialType[], out: SpecialTokens, names: Record<string, unknown>): void {
  const single = Array.isArray(tmpl.single) ? tmpl.single : [];
  const pair = Array.isArray(tmpl.pair) ? tmpl.pair : [];
  let first: unknown;
  let last: unknown;
  if (single.length > 1) {
    first = specialId(single[0]);
    if (first) {
      if (!tc) names.bos = first;
      else if (first !== names.bos && first !== names.cls) {
        if (!names.bos) tc.bos_token = names.bos = first;
        if (!names.cls) tc.cls_token = names.cls = first;
      }
      out.add.set('bos', first === names.bos || first === names.cls);
    }
    last = specialId(single.at(-1));
    if (last) {
      if (!tc) names.eos = last;
      else if (last !== names.eos) {
        const spare = !types.includes('eot') ? 'eot' : !types.includes('eom') ? 'eom' : null;
        if (spare) {
          types.push(spare);
          tc[`${spare}_token`] = names.eos;
        }
        tc.eos_token = names.eos = last;
      }
      out.add.set('eos', last === names.eos);
    }
  }
  if (pair.length === 0) return;
  const start = first && specialId(pair[0]) === first ? 1 : 0;
  const stop = last && specialId(pair.at(-1)) === last ? pair.length - 1 : pair.length;
  const inner = pair.slice(start, stop);
  if (inner.length === 0 || sequenceId(inner[0]) !== 'A' || sequenceId(inner.at(-1)) !== 'B') return;
  const middle = inner.slice(1, -1);
  if (middle.length === 0) return;
  let addSep = false;
  const m0 = specialId(middle[0]);
  if (m0 && (m0 === names.sep || m0 === names.eos) && !last) addSep = true;
  if (middle.length === 2) {
    const m1 = specialId(middle[1]);
    if (m1 && (m1 === names.sep || m1 === names.eos)) addSep = true;
  }
  out.add.set('sep', addSep);
  if (addSep && !names.sep && tc) tc.sep_token = names.eos;
}

export function readSpecialTokens(
  tokenizerJson: Json | null,
  tokenizerConfig: Json | null,
  config: Json,
  vocabSize: number,
): SpecialTokens {
  const out: SpecialTokens = { ids: new Map(), add: new Map(), lowercase: null, stripAccents: null };
  const types: SpecialType[] = [...TYPES];
  const tc = tokenizerConfig ? { ...tokenizerConfig } : null;
  const set = (typ: SpecialType, id: unknown): void => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocabSize || out.ids.has(typ)) return;
    out.ids.set(typ, id);
  };
  const added = tokenizerJson && Array.isArray(tokenizerJson.added_tokens) ? (tokenizerJson.added_tokens as Json[]) : [];

  if (tokenizerJson) {
    parseNormalizer(tokenizerJson.normalizer, out);
    const names: Record<string, unknown> = { bos: tc?.bos_token, cls: tc?.cls_token, eos: tc?.eos_token, sep: tc?.sep_token };
    if (!names.bos && names.cls && tc) tc.bos_token = names.bos = names.cls;
    if (!names.eos && names.sep && tc) tc.eos_token = names.eos = names.sep;
    const post = tokenizerJson.post_processor as Json | null | undefined;
    if (post && typeof post === 'object') {
      const processors = Array.isArray(post.processors) ? (post.processors as Json[]) : [post];
      for (const p of processors) {
        if (p?.type === 'RobertaProcessing') {
          out.add.set('bos', true).set('eos', true).set('sep', true);
          if (!names.cls && tc) tc.cls_token = names.cls = (Array.isArray(p.cls) ? p.cls[0] : undefined) ?? names.bos;
          if (!names.sep && tc) tc.sep_token = names.sep = (Array.isArray(p.sep) ? p.sep[0] : undefined) ?? names.eos;
        } else if (p?.type === 'TemplateProcessing') {
          readTemplate(p, tc, types, out, names);
        }
      }
    }
  }
  if (tc) {
    for (const typ of types) {
      const flag = tc[`add_${typ}_token`];
      if (typeof flag === 'boolean') out.add.set(typ, flag);
      const entry = tc[`${typ}_token`];
      const content = typeof entry === 'string' ? entry : (entry as { content?: unknown } | null)?.content;
      if (typeof content !== 'string') continue;
      set(typ, added.find((t) => t.content === content)?.id);
    }
  }
  const textConfig = (config.text_config ?? {}) as Json;
  for (const typ of types) set(typ, config[`${typ}_token_id`] ?? textConfig[`${typ}_token_id`]);
  return out;
}

/** The metadata entries, in the order gguf-py's SpecialVocab.add_to_gguf writes them. */
export function specialTokenMetadata(s: SpecialTokens): Array<[string, GgufValue]> {
  const out: Array<[string, GgufValue]> = [];
  for (const [typ, id] of s.ids) {
    const key = ID_KEYS[typ];
    if (key) out.push([key, gv.u32(id)]);
  }
  for (const [typ, value] of s.add) {
    const key = ADD_KEYS[typ];
    if (key) out.push([key, gv.bool(value)]);
  }
  if (s.lowercase !== null) out.push(['tokenizer.ggml.normalizer.lowercase', gv.bool(s.lowercase)]);
  if (s.stripAccents !== null) out.push(['tokenizer.ggml.normalizer.strip_accents', gv.bool(s.stripAccents)]);
  return out;
}
