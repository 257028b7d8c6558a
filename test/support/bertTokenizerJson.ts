/**
 * A Hugging Face tokenizer.json (BertNormalizer lowercase + BertPreTokenizer + WordPiece, as
 * bert-base-uncased / bge-*-en-v1.5 ship it) for the vocabulary a llama.cpp BERT GGUF carries,
 * mapped back from llama.cpp's phantom-space form ("\u2581word" / "piece") to BERT's ("word" / "##piece").
 */
import { readGguf } from '../../src/gguf/reader.js';
import { GgufValueType } from '../../src/gguf/types.js';

const CONTROL = 3; // llama.cpp token type of [CLS], [SEP], ...

export async function bertTokenizerJsonFromGguf(vocabPath: string): Promise<Record<string, unknown>> {
  const file = await readGguf(vocabPath);
  const tokens = file.metadata.get('tokenizer.ggml.tokens');
  const types = file.metadata.get('tokenizer.ggml.token_type');
  if (tokens?.type !== GgufValueType.ARRAY || types?.type !== GgufValueType.ARRAY) throw new Error('vocab GGUF without tokens');
  const vocab: Record<string, number> = {};
  const special: number[] = [];
  (tokens.value as string[]).forEach((t, id) => {
    if (types.value[id] === CONTROL) {
      vocab[t] = id;
      special.push(id);
    } else vocab[t.startsWith('\u2581') ? t.slice(1) : `##${t}`] = id;
  });
  const names = tokens.value as string[];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((id) => ({ id, content: names[id], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [names.indexOf('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [names.indexOf('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}
