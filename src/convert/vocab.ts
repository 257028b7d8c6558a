/**
 * WordPiece vocabulary → llama.cpp's "bert" tokenizer keys, the way convert_hf_to_gguf.py writes
 * them: word-initial pieces get a leading U+2581, "##" continuation pieces lose their "##",
 * control tokens stay as they are.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BgeGgufError, ModelNotFoundError } from '../errors.js';
import { readJsonIfPresent } from './checkpoint.js';

/** llama.cpp's llama_token_type values (gguf.TokenType). */
export enum TokenType {
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
}

export interface BertVocab {
  /** In llama.cpp's form (phantom-space prefix), index = token id. */
  tokens: string[];
  types: TokenType[];
  /** Pieces as the Hugging Face tokenizer spells them ("##ing", "[CLS]"). */
  hfTokens: string[];
  source: 'tokenizer.json' | 'vocab.txt';
  tokenizerJson: Record<string, unknown> | null;
}

interface AddedToken {
  id: number;
  content: string;
  special?: boolean;
}

/** BertTokenizer's special tokens when tokenizer_config.json does not name them. */
const BERT_SPECIALS = ['[UNK]', '[SEP]', '[PAD]', '[CLS]', '[MASK]'];

function looksSpecial(token: string): boolean {
  return (
    ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(token) ||
    (token.startsWith('<|') && token.endsWith('|>')) ||
    (token.startsWith('<｜') && token.endsWith('｜>')) ||
    (token.startsWith('<unused') && token.endsWith('>'))
  );
}

function tokenText(entry: unknown): string | null {
  if (typeof entry === 'string') return entry;
  if (entry && typeof entry === 'object' && typeof (entry as { content?: unknown }).content === 'string') {
    return (entry as { content: string }).content;
  }
  return null;
}

function toPhantom(token: string, type: TokenType): string {
  if (type === TokenType.CONTROL) return token;
  if (token.startsWith('##')) return token.slice(2);
  return '\u2581' + token;
}

function fromTokenizerJson(json: Record<string, unknown>, path: string): { byToken: Map<string, number>; added: AddedToken[] } {
  const model = json.model as { type?: unknown; vocab?: unknown } | undefined;
  if (!model || (model.type !== undefined && model.type !== 'WordPiece')) {
    throw new BgeGgufError('UNSUPPORTED_MODEL', `${path}: tokenizer model ${String(model?.type)} is not WordPiece; bge-gguf converts BERT WordPiece checkpoints`);
  }
  if (!model.vocab || typeof model.vocab !== 'object' || Array.isArray(model.vocab)) {
    throw new BgeGgufError('UNSUPPORTED_MODEL', `${path}: model.vocab is not a token → id map`);
  }
  const byToken = new Map<string, number>();
  for (const [tok, id] of Object.entries(model.vocab as Record<string, unknown>)) {
    if (typeof id === 'number' && Number.isInteger(id) && id >= 0) byToken.set(tok, id);
  }
  const added = (Array.isArray(json.added_tokens) ? json.added_tokens : []).filter(
    (t): t is AddedToken => typeof t?.id === 'number' && typeof t?.content === 'string',
  );
  for (const t of added) byToken.set(t.content, t.id);
  return { byToken, added };
}

function fromVocabTxt(path: string, tokenizerConfig: Record<string, unknown> | null): { byToken: Map<string, number>; added: AddedToken[] } {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const byToken = new Map<string, number>();
  lines.forEach((line, i) => byToken.set(line.replace(/\r$/, ''), i));
  const named = ['unk', 'sep', 'pad', 'cls', 'mask', 'bos', 'eos']
    .map((typ) => tokenText(tokenizerConfig?.[`${typ}_token`]))
    .filter((t): t is string => t !== null);
  const specials = new Set(named.length ? named : BERT_SPECIALS);
  const added = [...specials].filter((t) => byToken.has(t)).map((t) => ({ id: byToken.get(t)!, content: t, special: true }));
  return { byToken, added };
}

export function readBertVocab(dir: string, configVocabSize: number | null): BertVocab {
  const jsonPath = join(dir, 'tokenizer.json');
  const txtPath = join(dir, 'vocab.txt');
  const tokenizerConfig = readJsonIfPresent(join(dir, 'tokenizer_config.json'));
  let tokenizerJson: Record<string, unknown> | null = null;
  let parsed: { byToken: Map<string, number>; added: AddedToken[] };
  if (existsSync(jsonPath)) {
    tokenizerJson = readJsonIfPresent(jsonPath);
    if (!tokenizerJson) throw new BgeGgufError('UNSUPPORTED_MODEL', `${jsonPath} is not a tokenizer.json object`);
    parsed = fromTokenizerJson(tokenizerJson, jsonPath);
  } else if (existsSync(txtPath)) {
    parsed = fromVocabTxt(txtPath, tokenizerConfig);
  } else {
    throw new ModelNotFoundError(`${dir} has neither tokenizer.json nor vocab.txt; copy the checkpoint's tokenizer files into it`);
  }
  const { byToken, added } = parsed;
  if (byToken.size === 0) throw new BgeGgufError('UNSUPPORTED_MODEL', `${dir}: the vocabulary is empty`);
  let maxId = -1;
  for (const id of byToken.values()) if (id > maxId) maxId = id; // no spread: vocabularies reach 250k ids
  const vocabSize = configVocabSize ?? byToken.size;
  if (maxId >= vocabSize) {
    throw new BgeGgufError('UNSUPPORTED_MODEL', `${dir}: token id ${maxId} is outside config.json's vocab_size ${vocabSize}`);
  }

  const reverse = new Map<number, string>();
  for (const [tok, id] of byToken) reverse.set(id, tok);
  const addedById = new Map(added.map((t) => [t.id, t]));
  const hfTokens: string[] = [];
  const types: TokenType[] = [];
  for (let i = 0; i < vocabSize; i++) {
    const tok = reverse.get(i);
    if (tok === undefined) {
      hfTokens.push(`[PAD${i}]`);
      types.push(TokenType.UNUSED);
      continue;
    }
    const a = addedById.get(i);
    let piece = tok;
    if (a && a.content === tok) {
      if (a.special || looksSpecial(tok)) types.push(TokenType.CONTROL);
      else {
        piece = tok.replaceAll('\u2581', ' ');
        types.push(TokenType.USER_DEFINED);
      }
    } else {
      types.push(TokenType.NORMAL);
    }
    hfTokens.push(piece);
  }
  return {
    tokens: hfTokens.map((t, i) => toPhantom(t, types[i])),
    types,
    hfTokens,
    source: tokenizerJson ? 'tokenizer.json' : 'vocab.txt',
    tokenizerJson,
  };
}

/**
 * sha256 of the vocabulary (HF pieces joined by "\n"). convert_hf_to_gguf.py names the
 * pre-tokenizer by hashing the tokenizer's output on a probe text; llama.cpp ignores that name
 * for WordPiece vocabularies, so bge-gguf only recognises the uncased BERT vocabulary that
 * bge-*-en-v1.5 and all-MiniLM-L6-v2 share and writes the name the script writes for them.
 */
export function vocabHash(vocab: BertVocab): string {
  return createHash('sha256').update(vocab.hfTokens.join('\n')).digest('hex');
}

const KNOWN_PRE: Record<string, string> = {
  // bert-base-uncased's 30522 pieces (BAAI/bge-small-en-v1.5, sentence-transformers/all-MiniLM-L6-v2),
  // lower-casing normalizer: the script's hash table maps these to "jina-v2-en" (its last match).
  '0f052197aac305fe42f378b5c61554b7bacb34b8be4af83fec2cfdcdffbc9973': 'jina-v2-en',
};

export function tokenizerPreName(vocab: BertVocab, lowercase: boolean | null): string {
  const name = KNOWN_PRE[vocabHash(vocab)];
  return name && lowercase !== false ? name : 'default';
}
